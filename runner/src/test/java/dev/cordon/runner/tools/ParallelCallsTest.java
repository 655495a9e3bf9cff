package dev.cordon.runner.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model may issue several tool calls at once; the agent loop runs them on parallel threads. */
class ParallelCallsTest {
    private static final int CALLS = 24;

    @TempDir
    Path dir;

    @Test
    void parallelCallsOfEveryToolDoNotInterfere() throws Exception {
        ToolHarness tools = new ToolHarness(dir);
        List<Callable<Void>> calls = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
            int n = i;
            calls.add(() -> {
                String file = "f" + n + ".txt";
                assertThat(tools.run("write", "path", file, "content", "value " + n + "\n")
                                .isError())
                        .isFalse();
                assertThat(tools.run("edit", "path", file, "old_string", "value", "new_string", "edited")
                                .isError())
                        .isFalse();
                assertThat(tools.run("read", "path", file).content()).isEqualTo("     1\tedited " + n + "\n");
                assertThat(tools.run("bash", "command", "cat " + file + "; echo err " + n + " >&2")
                                .content())
                        .isEqualTo("edited " + n + "\nerr " + n + "\n");
                assertThat(tools.run("grep", "pattern", "^edited " + n + "$").content())
                        .isEqualTo(file + "\n");
                assertThat(tools.run("glob", "pattern", file).content()).isEqualTo(file + "\n");
                return null;
            });
        }
        runAll(calls);
    }

    @Test
    void parallelEditsOfOneFileAreAllApplied() throws Exception {
        ToolHarness tools = new ToolHarness(dir);
        String original =
                IntStream.range(0, CALLS).mapToObj(i -> "slot " + i + "\n").collect(Collectors.joining());
        Files.writeString(dir.resolve("shared.txt"), original);
        List<Callable<Void>> calls = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
            int n = i;
            calls.add(() -> {
                ToolOutput out = tools.run(
                        "edit",
                        "path",
                        "shared.txt",
                        "old_string",
                        "slot " + n + "\n",
                        "new_string",
                        "done " + n + "\n");
                assertThat(out.isError()).as(out.content()).isFalse();
                return null;
            });
        }
        runAll(calls);

        assertThat(Files.readString(dir.resolve("shared.txt"))).isEqualTo(original.replace("slot", "done"));
    }

    private static void runAll(List<Callable<Void>> calls) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (Future<Void> f : pool.invokeAll(calls)) {
                f.get();
            }
        }
    }
}
