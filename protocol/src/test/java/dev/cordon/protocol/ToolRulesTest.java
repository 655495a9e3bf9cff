package dev.cordon.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cordon.protocol.ToolRules.Action;
import dev.cordon.protocol.ToolRules.Decision;
import dev.cordon.protocol.ToolRules.Tool;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ToolRulesTest {
    private static final Tool BASH = new Tool(
            Action.ALLOW, List.of("git *", "ls*"), List.of("git push*", "curl *"), List.of("rm -rf *", "*sudo *"));

    @Test
    void denyWinsOverAskAndAskOverAllowWhateverTheListOrder() {
        ToolRules.Evaluator rules = new ToolRules(
                        Map.of("bash", new Tool(null, List.of("*"), List.of("git *"), List.of("git push --force*"))))
                .evaluator();

        assertThat(rules.decide("bash", "git push --force origin main"))
                .isEqualTo(new Decision(Action.DENY, "tools.bash.deny[0] \"git push --force*\""));
        assertThat(rules.decide("bash", "git status"))
                .isEqualTo(new Decision(Action.ASK, "tools.bash.ask[0] \"git *\""));
        assertThat(rules.decide("bash", "make")).isEqualTo(new Decision(Action.ALLOW, "tools.bash.allow[0] \"*\""));
    }

    @Test
    void theDecisionNamesTheFirstMatchingRuleOfTheWinningList() {
        ToolRules.Evaluator rules = new ToolRules(Map.of("bash", BASH)).evaluator();

        assertThat(rules.decide("bash", "echo hi; sudo rm -rf /").rule()).isEqualTo("tools.bash.deny[1] \"*sudo *\"");
        assertThat(rules.decide("bash", "rm -rf /tmp/x").rule()).isEqualTo("tools.bash.deny[0] \"rm -rf *\"");
        assertThat(rules.decide("bash", "curl https://example.com").rule()).isEqualTo("tools.bash.ask[1] \"curl *\"");
    }

    @Test
    void aCommandPatternMatchesTheWholeCommandAndStarCrossesSpacesSlashesAndNewlines() {
        ToolRules.Evaluator rules =
                new ToolRules(Map.of("bash", new Tool(null, null, null, List.of("rm *")))).evaluator();

        assertThat(rules.decide("bash", "rm -r /a/b\nrm c").action()).isEqualTo(Action.DENY);
        assertThat(rules.decide("bash", "echo; rm x").action()).isEqualTo(Action.ALLOW);
        assertThat(rules.decide("bash", "rmdir x").action()).isEqualTo(Action.ALLOW);
    }

    @Test
    void theStringFastPathsMeanExactlyWhatTheRegularExpressionMeans() {
        List<String> patterns = List.of(
                "*", "**", "", "ls", "ls*", "*ls", "*ls*", "**ls**", "git *", "*rm -rf*", "a*b", "?s", "*.*", "*\\*");
        List<String> subjects = List.of(
                "", "ls", "ls -l", "els", "false", "git status", "sudo rm -rf /", "ab", "a-b", "xs", "\\", "a.b\nls");
        for (String pattern : patterns) {
            java.util.regex.Pattern regex = ToolRules.commandGlob(pattern);
            java.util.function.Predicate<String> fast = ToolRules.commandMatcher(pattern);
            for (String subject : subjects) {
                assertThat(fast.test(subject))
                        .as("pattern '%s' on '%s'", pattern, subject)
                        .isEqualTo(regex.matcher(subject).matches());
            }
        }
    }

    @Test
    void thePathFastPathsMeanExactlyWhatTheRegularExpressionMeans() {
        List<String> globs = List.of(
                "/etc/**",
                "/etc",
                "secrets/**",
                ".git/**",
                "/**",
                "notes.txt",
                "/etc/*",
                "**/*.pem",
                "/a/**/b",
                "**/.env",
                "src/**/*.java",
                "/a/**/**",
                "/a/?",
                "?",
                "/a/**/b/**",
                "*.md",
                "**/.ssh/**",
                "**/id_rsa*",
                "/a/*/b?/**/c*d");
        List<String> paths = List.of(
                "/etc",
                "/etc/passwd",
                "/etcetera",
                "/etc/ssh/x",
                "/workspace/secrets",
                "/workspace/secrets/a/b",
                "/workspace/.git/config",
                "/workspace/.github/x",
                "/",
                "/workspace/notes.txt",
                "/a/b",
                "/a/x/b",
                "/a",
                "/a/c",
                "/workspace/.env",
                "/workspace/app/.env",
                "/workspace/src/A.java",
                "/workspace/src/x/A.java",
                "/a/b/c",
                "/workspace/README.md",
                "/workspace/docs/x.md",
                "/x",
                "/workspace/.ssh",
                "/workspace/home/.ssh/known_hosts",
                "/workspace/.sshx",
                "/workspace/keys/id_rsa.pub",
                "/a/x/b1/c-d",
                "/a/x/b1/y/z/cd",
                "/a/x/b/cd");
        for (String glob : globs) {
            java.util.regex.Pattern regex = ToolRules.pathGlob(glob);
            java.util.function.Predicate<String> fast = ToolRules.pathMatcher(glob);
            for (String path : paths) {
                assertThat(fast.test(path))
                        .as("glob '%s' on '%s'", glob, path)
                        .isEqualTo(regex.matcher(path).matches());
            }
        }
    }

    @Test
    void patternCharactersOtherThanStarAndQuestionMarkAreLiteral() {
        ToolRules.Evaluator rules =
                new ToolRules(Map.of("bash", new Tool(null, null, null, List.of("echo (a|b) [x].+ ?")))).evaluator();

        assertThat(rules.decide("bash", "echo (a|b) [x].+ !").action()).isEqualTo(Action.DENY);
        assertThat(rules.decide("bash", "echo a [x].+ !").action()).isEqualTo(Action.ALLOW);
    }

    @ParameterizedTest
    @CsvSource({
        "/etc/**, /etc, DENY",
        "/etc/**, /etc/passwd, DENY",
        "/etc/**, /etc/ssh/sshd_config, DENY",
        "/etc/**, /etcetera, ALLOW",
        "/etc/*, /etc/ssh/sshd_config, ALLOW",
        "/etc/*, /etc/passwd, DENY",
        "secrets/**, /workspace/secrets/key.pem, DENY",
        "secrets/**, /workspace/public/key.pem, ALLOW",
        "**/*.pem, /workspace/a/b/key.pem, DENY",
        "**/*.pem, /key.pem, ALLOW",
        "/**/*.pem, /key.pem, DENY",
        "/workspace/**/.env, /workspace/.env, DENY",
        "/workspace/**/.env, /workspace/app/config/.env, DENY",
        "/workspace/**/.env, /workspace/app/.envrc, ALLOW",
        "/workspace/?.txt, /workspace/a.txt, DENY",
        "/workspace/?.txt, /workspace/ab.txt, ALLOW",
    })
    void pathGlobsStarWithinASegmentDoubleStarAcrossSegmentsRelativeToTheWorkspace(
            String glob, String path, Action expected) {
        ToolRules.Evaluator rules =
                new ToolRules(Map.of("read", new Tool(null, null, null, List.of(glob)))).evaluator();

        assertThat(rules.decide("read", path).action()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
        "notes.txt, /workspace/notes.txt",
        "./a/../b.txt, /workspace/b.txt",
        "../../etc/passwd, /etc/passwd",
        "/workspace/../etc//shadow, /etc/shadow",
        "/../../x, /x",
        "., /workspace",
    })
    void pathsAreNormalisedWithRelativePathsUnderTheWorkspace(String path, String normalised) {
        assertThat(ToolRules.normalisePath(path)).isEqualTo(normalised);
    }

    @Test
    void withNoMatchTheToolsDefaultThenTheStarDefaultThenAllow() {
        ToolRules.Evaluator rules = new ToolRules(Map.of(
                        "bash",
                        new Tool(Action.ASK, List.of("ls *"), null, null),
                        "read",
                        new Tool(null, List.of("/workspace/**"), null, null),
                        ToolRules.ANY,
                        new Tool(Action.DENY, null, null, null)))
                .evaluator();

        assertThat(rules.decide("bash", "ls -l")).isEqualTo(new Decision(Action.ALLOW, "tools.bash.allow[0] \"ls *\""));
        assertThat(rules.decide("bash", "make")).isEqualTo(new Decision(Action.ASK, "tools.bash.default"));
        assertThat(rules.decide("read", "/etc/passwd")).isEqualTo(new Decision(Action.DENY, "tools.\"*\".default"));
        assertThat(rules.decide("grep", "/workspace")).isEqualTo(new Decision(Action.DENY, "tools.\"*\".default"));
        assertThat(new ToolRules(Map.of("bash", new Tool(null, null, null, List.of("rm *"))))
                        .evaluator()
                        .decide("write", "/workspace/x"))
                .isEqualTo(new Decision(Action.ALLOW, "no rule (allowed by default)"));
    }

    @Test
    void aCallWithoutASubjectGetsOnlyTheDefaults() {
        ToolRules.Evaluator rules = new ToolRules(Map.of("bash", new Tool(null, List.of("*"), null, null))).evaluator();

        assertThat(rules.decide("bash", null)).isEqualTo(new Decision(Action.ALLOW, "no rule (allowed by default)"));
    }

    @Test
    void noRulesAllowEverything() {
        assertThat(ToolRules.NONE.evaluator().decide("bash", "rm -rf /").action())
                .isEqualTo(Action.ALLOW);
        assertThat(new ToolRules(null).allowsEverything()).isTrue();
        assertThat(new ToolRules(Map.of("bash", BASH)).allowsEverything()).isFalse();
    }

    @Test
    void rulesTravelInStartTurnAndAnAbsentFieldMeansNone() {
        ToolRules rules = new ToolRules(Map.of("bash", BASH, ToolRules.ANY, new Tool(Action.ASK, null, null, null)));
        HostMessage.StartTurn turn = new HostMessage.StartTurn(
                "t", "s", new ModelSettings(ModelApi.ANTHROPIC, "m", 1), List.of(ChatMessage.user("u")), rules);

        HostMessage back = Wire.decode(Wire.encode(turn), HostMessage.class);

        assertThat(back).isEqualTo(turn);
        String older = "{\"type\":\"start_turn\",\"turnId\":\"t\",\"systemPrompt\":\"s\","
                + "\"model\":{\"api\":\"ANTHROPIC\",\"model\":\"m\",\"maxTokens\":1},\"transcript\":[]}";
        HostMessage.StartTurn old = (HostMessage.StartTurn) Wire.decode(older.getBytes(), HostMessage.class);
        assertThat(old.toolRules()).isEqualTo(ToolRules.NONE);
    }
}
