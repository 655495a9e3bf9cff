package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.nio.file.PathMatcher;
import org.junit.jupiter.api.Test;

class GlobsTest {
    @Test
    void splitsOffTheLiteralLeadingDirectories() {
        assertThat(Globs.split("src/main/**/*.java")).isEqualTo(new Globs.Split("src/main", "**/*.java"));
        assertThat(Globs.split("*.java")).isEqualTo(new Globs.Split("", "*.java"));
        assertThat(Globs.split("a/b.txt")).isEqualTo(new Globs.Split("a", "b.txt"));
        assertThat(Globs.split("/etc/*.conf")).isEqualTo(new Globs.Split("/etc", "*.conf"));
        assertThat(Globs.split("/x")).isEqualTo(new Globs.Split("/", "x"));
        assertThat(Globs.split("{a,b/c}/d")).isEqualTo(new Globs.Split("", "{a,b/c}/d"));
    }

    @Test
    void doubleStarSlashIsOptional() throws Exception {
        PathMatcher m = Globs.compile("pattern", "a/**/b/**/*.txt");

        assertThat(m.matches(Path.of("a/b/x.txt"))).isTrue();
        assertThat(m.matches(Path.of("a/1/2/b/3/x.txt"))).isTrue();
        assertThat(m.matches(Path.of("a/b/x.java"))).isFalse();
        assertThat(m.matches(Path.of("ab/x.txt"))).isFalse();
    }

    @Test
    void depthIsBoundedOnlyWithoutDoubleStar() {
        assertThat(Globs.maxDepth("*.java")).isEqualTo(1);
        assertThat(Globs.maxDepth("*/x/*.java")).isEqualTo(3);
        assertThat(Globs.maxDepth("**/*.java")).isEqualTo(Integer.MAX_VALUE);
    }
}
