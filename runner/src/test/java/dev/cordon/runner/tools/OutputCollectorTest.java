package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputCollectorTest {
    @Test
    void keepsEverythingUpToTheLimit() {
        assertThat(collect("0123456789", 10)).isEqualTo("0123456789");
    }

    @Test
    void keepsHeadAndTailAndCountsWhatWasLeftOut() {
        assertThat(collect("0123456789abcdef", 10))
                .isEqualTo("01234\n\n[... 6 characters of output omitted ...]\n\nbcdef");
    }

    @Test
    void neverSplitsASurrogatePair() {
        String text = "ab🙂" + "x".repeat(10) + "🙂yz";

        String kept = collect(text, 6);

        assertThat(kept).isEqualTo("ab\n\n[... 14 characters of output omitted ...]\n\nyz");
    }

    private static String collect(String text, int limit) {
        OutputCollector c = new OutputCollector(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), limit);
        c.run();
        return c.text();
    }
}
