package dev.cordon.bench.policy;

import dev.cordon.protocol.ToolRules;
import dev.cordon.protocol.ToolRules.Action;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the runner pays per tool call to apply the agent's tool rules: one {@link
 * ToolRules.Evaluator#decide} (and, for file tools, one path normalisation), with 20 rules for the
 * tool, against an all-allow policy as the baseline. The evaluator is compiled once per turn;
 * compiling is measured too. Run: {@code java -cp 'bench/target/lib/*' org.openjdk.jmh.Main
 * ToolRulesBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ToolRulesBench {
    /** A command no rule matches: every pattern is tried before the default decides (the worst case). */
    static final String COMMAND = "cd /workspace/app && ./gradlew test --tests 'dev.example.*' | tail -n 40";

    static final String PATH = "src/main/java/dev/example/app/Service.java";

    ToolRules twenty;
    ToolRules.Evaluator rules;
    ToolRules.Evaluator allowAll;

    @Setup
    public void setUp() {
        twenty = new ToolRules(Map.of(
                "bash",
                new ToolRules.Tool(
                        Action.ASK,
                        List.of("git status*", "git diff*", "git log*", "ls*", "cat *", "grep *", "make*"),
                        List.of("git push*", "curl *", "wget *", "npm publish*", "pip install *"),
                        List.of(
                                "*rm -rf*",
                                "*sudo *",
                                "*mkfs*",
                                "*dd if=*",
                                "*:(){*",
                                "*chmod -R 777*",
                                "*> /dev/sd*",
                                "*shutdown*")),
                "write",
                new ToolRules.Tool(
                        Action.ALLOW,
                        List.of("src/**", "docs/**", "test/**", "*.md"),
                        List.of("build.gradle*", "pom.xml", "package.json", "**/*.lock"),
                        List.of(
                                "/etc/**",
                                "/usr/**",
                                ".git/**",
                                "**/.env",
                                "**/*.pem",
                                "**/id_rsa*",
                                "secrets/**",
                                "/proc/**",
                                "/sys/**",
                                "**/.ssh/**",
                                "**/credentials*",
                                "/tmp/**"))));
        rules = twenty.evaluator();
        allowAll = ToolRules.NONE.evaluator();
    }

    @Benchmark
    public ToolRules.Decision bash20Rules() {
        return rules.decide("bash", COMMAND);
    }

    @Benchmark
    public ToolRules.Decision bashAllowAll() {
        return allowAll.decide("bash", COMMAND);
    }

    @Benchmark
    public ToolRules.Decision path20Rules() {
        return rules.decide("write", ToolRules.normalisePath(PATH));
    }

    @Benchmark
    public ToolRules.Decision pathAllowAll() {
        return allowAll.decide("write", ToolRules.normalisePath(PATH));
    }

    @Benchmark
    public ToolRules.Evaluator compile20RulesPerTurn() {
        return twenty.evaluator();
    }
}
