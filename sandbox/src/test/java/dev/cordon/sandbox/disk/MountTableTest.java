package dev.cordon.sandbox.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Parsing {@code /proc/self/mountinfo} as the kernel writes it. */
class MountTableTest {
    static final String SAMPLE = """
            27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
            42 27 7:0 / /srv/cordon/agents/a/workspace rw,nosuid,nodev,relatime - ext4 /dev/loop0 rw
            43 27 7:1 / /srv/cordon/agents/with\\040space/workspace rw,nosuid,nodev shared:5 - ext4 /dev/loop1 rw
            44 42 0:39 / /srv/cordon/agents/a/workspace rw,relatime - tmpfs tmpfs rw,size=1024k
            garbage line
            """;

    @Test
    void entriesCarryDeviceMountPointTypeSourceAndOptions() {
        List<MountTable.Entry> entries = MountTable.parse(SAMPLE);

        assertThat(entries).hasSize(4);
        MountTable.Entry loop = entries.get(1);
        assertThat(loop.device()).isEqualTo("7:0");
        assertThat(loop.mountPoint()).isEqualTo("/srv/cordon/agents/a/workspace");
        assertThat(loop.type()).isEqualTo("ext4");
        assertThat(loop.source()).isEqualTo("/dev/loop0");
        assertThat(loop.options()).containsExactly("rw", "nosuid", "nodev", "relatime");
    }

    @Test
    void optionalFieldsBeforeTheSeparatorAndOctalEscapesAreHandled() {
        MountTable.Entry entry = MountTable.parse(SAMPLE).get(2);

        assertThat(entry.mountPoint()).isEqualTo("/srv/cordon/agents/with space/workspace");
        assertThat(entry.type()).isEqualTo("ext4");
        assertThat(entry.source()).isEqualTo("/dev/loop1");
    }

    @Test
    void aBackslashThatIsNotAnEscapeIsKept() {
        assertThat(MountTable.unescape("a\\b\\04")).isEqualTo("a\\b\\04");
        assertThat(MountTable.unescape("tab\\011end")).isEqualTo("tab\tend");
    }

    @Test
    void aNonLoopSourceHasNoBackingFile() {
        assertThat(MountTable.backingFile("/dev/vda")).isEmpty();
        assertThat(MountTable.backingFile("tmpfs")).isEmpty();
    }
}
