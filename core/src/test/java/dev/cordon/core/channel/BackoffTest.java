package dev.cordon.core.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void waitsGrowExponentiallyWithJitterInTheUpperHalfUpToTheMaximum() {
        Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), new SplittableRandom(7));

        long[] ceilings = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
        for (long ceiling : ceilings) {
            long wait = backoff.next().toMillis();
            assertThat(wait).isBetween(ceiling / 2, ceiling);
        }
    }

    @Test
    void resetStartsOverFromTheBase() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30), new SplittableRandom(1));
        for (int i = 0; i < 10; i++) {
            backoff.next();
        }

        backoff.reset();

        assertThat(backoff.next().toMillis()).isBetween(50L, 100L);
    }

    @Test
    void twoAdaptersWithDifferentRandomnessDoNotComeBackInLockstep() {
        Backoff a = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1), new SplittableRandom(1));
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1), new SplittableRandom(2));
        boolean differ = false;
        for (int i = 0; i < 5; i++) {
            differ |= !a.next().equals(b.next());
        }
        assertThat(differ).isTrue();
    }

    @Test
    void aMaximumBelowTheBaseIsRefused() {
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), new SplittableRandom()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 < base <= max");
    }
}
