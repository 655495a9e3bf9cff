package dev.cordon.core.channel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecentIdsTest {
    @Test
    void pastItsCapacityTheOldestIdIsForgottenFirst() {
        RecentIds<Long> ids = new RecentIds<>(2);
        ids.add(1L);
        ids.add(2L);
        ids.add(3L);

        assertThat(ids.contains(1L)).isFalse();
        assertThat(ids.contains(2L)).isTrue();
        assertThat(ids.contains(3L)).isTrue();
        assertThat(ids.contains(4L)).isFalse();
    }
}
