package dev.cordon.protocol;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * An agent's rules for its in-sandbox tools, from the {@code tools:} section of its policy: per
 * tool a default action and lists of {@code allow}, {@code ask} and {@code deny} patterns. The host
 * sends them with every turn ({@link HostMessage.StartTurn#toolRules()}); the runner evaluates them
 * before it runs a tool call.
 *
 * <p>These rules are a guardrail, not a security boundary: the runner runs inside the sandbox and
 * a subverted runner can skip them. What an agent can reach is decided by the sandbox (mounts,
 * seccomp, no network) and by the host's checks of every RPC.
 *
 * <p>Evaluation, for one call of tool {@code T} on subject {@code S} (the command string for
 * {@code bash}, the normalised path for the file tools): a matching {@code deny} pattern wins over a
 * matching {@code ask} pattern, which wins over a matching {@code allow} pattern, whatever their
 * order in the lists. With no match, {@code T}'s {@code default} applies, then the {@code "*"}
 * entry's {@code default}, then {@link Action#ALLOW}: a policy without a {@code tools:} section
 * changes nothing.
 *
 * @param tools by tool name ({@code bash}, {@code read}, ... or {@link #ANY}); empty means every
 *     call is allowed
 */
public record ToolRules(Map<String, Tool> tools) {
    /** The key of the entry whose {@code default} applies to every tool without one of its own. */
    public static final String ANY = "*";

    /** Tools whose subject is a command string, matched against command patterns. */
    public static final Set<String> COMMAND_TOOLS = Set.of("bash");

    /** Tools whose subject is the path they touch, matched against path globs. */
    public static final Set<String> PATH_TOOLS = Set.of("read", "write", "edit", "glob", "grep");

    /** Where the agent's workspace is inside a sandbox; relative paths and globs resolve against it. */
    public static final String WORKSPACE = "/workspace";

    /** No rules: every tool call is allowed. */
    public static final ToolRules NONE = new ToolRules(Map.of());

    public ToolRules {
        tools = tools == null ? Map.of() : Map.copyOf(tools);
    }

    /** What a rule makes of a tool call. */
    public enum Action {
        ALLOW,
        ASK,
        DENY;

        /** The word used in policy files: {@code allow}, {@code ask} or {@code deny}. */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One tool's rules.
     *
     * @param fallback the action when no pattern matches; null defers to the {@code "*"} entry
     */
    public record Tool(Action fallback, List<String> allow, List<String> ask, List<String> deny) {
        public Tool {
            allow = allow == null ? List.of() : List.copyOf(allow);
            ask = ask == null ? List.of() : List.copyOf(ask);
            deny = deny == null ? List.of() : List.copyOf(deny);
        }
    }

    /**
     * The outcome for one call.
     *
     * @param rule the rule that decided, as the policy names it: {@code tools.bash.deny[0] "rm -rf *"},
     *     {@code tools.bash.default}, {@code tools."*".default}, or {@code no rule (allowed by default)}
     */
    public record Decision(Action action, String rule) {
        public Decision {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(rule, "rule");
        }
    }

    /** True if these rules allow every call (no rule at all, or only {@code allow} defaults). */
    public boolean allowsEverything() {
        return tools.values().stream()
                .allMatch(t -> (t.fallback() == null || t.fallback() == Action.ALLOW)
                        && t.ask().isEmpty()
                        && t.deny().isEmpty());
    }

    /** Compiles the patterns once; the evaluator is immutable and thread-safe. */
    public Evaluator evaluator() {
        return new Evaluator(this);
    }

    /**
     * A path as the rules see it: relative paths resolve against {@link #WORKSPACE}, and {@code .}
     * and {@code ..} segments are removed ({@code ..} above the root stays at the root).
     */
    public static String normalisePath(String path) {
        String absolute = path.startsWith("/") ? path : WORKSPACE + "/" + path;
        Deque<String> parts = new ArrayDeque<>();
        for (String part : absolute.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                parts.pollLast();
            } else {
                parts.addLast(part);
            }
        }
        return "/" + String.join("/", parts);
    }

    /** Tool rules compiled for evaluation. Immutable and thread-safe. */
    public static final class Evaluator {
        private final Map<String, Compiled> tools = new LinkedHashMap<>();
        private final Action anyFallback;

        private Evaluator(ToolRules rules) {
            rules.tools().forEach((name, tool) -> tools.put(name, new Compiled(name, tool)));
            Tool any = rules.tools().get(ANY);
            anyFallback = any == null ? null : any.fallback();
        }

        /**
         * Decides one call of {@code tool}. Never throws.
         *
         * @param subject the command ({@code bash}) or the path the tool would touch, already
         *     normalised with {@link #normalisePath}; null if the call's input has none (then only the
         *     defaults apply)
         */
        public Decision decide(String tool, String subject) {
            Compiled rules = tools.get(tool);
            if (rules != null) {
                if (subject != null) {
                    for (Matched list : rules.lists) {
                        for (int i = 0; i < list.patterns.length; i++) {
                            if (list.patterns[i].test(subject)) {
                                return new Decision(
                                        list.action,
                                        "tools." + quoted(tool) + "." + list.action.word() + "[" + i + "] \""
                                                + list.sources.get(i) + "\"");
                            }
                        }
                    }
                }
                if (rules.fallback != null) {
                    return new Decision(rules.fallback, "tools." + quoted(tool) + ".default");
                }
            }
            if (anyFallback != null) {
                return new Decision(anyFallback, "tools." + quoted(ANY) + ".default");
            }
            return new Decision(Action.ALLOW, "no rule (allowed by default)");
        }

        private static String quoted(String tool) {
            return tool.equals(ANY) ? "\"*\"" : tool;
        }
    }

    private record Matched(Action action, List<String> sources, Predicate<String>[] patterns) {}

    private static final class Compiled {
        final Action fallback;
        final List<Matched> lists;

        Compiled(String name, Tool tool) {
            fallback = tool.fallback();
            boolean paths = PATH_TOOLS.contains(name);
            // Checked in precedence order: deny, then ask, then allow.
            lists = List.of(
                    matched(Action.DENY, tool.deny(), paths),
                    matched(Action.ASK, tool.ask(), paths),
                    matched(Action.ALLOW, tool.allow(), paths));
        }

        @SuppressWarnings("unchecked") // an array of a generic type; every element is a Predicate<String>
        private static Matched matched(Action action, List<String> sources, boolean paths) {
            Predicate<String>[] patterns = sources.stream()
                    .map(s -> paths ? pathMatcher(s) : commandMatcher(s))
                    .toArray(Predicate[]::new);
            return new Matched(action, sources, patterns);
        }
    }

    /**
     * The common path globs (a plain path, {@code dir/**}) are plain string tests; anything else is
     * a regular expression. Same meaning, a fraction of the cost.
     */
    static Predicate<String> pathMatcher(String glob) {
        String g = glob.startsWith("/") ? glob : WORKSPACE + "/" + glob;
        boolean below = g.endsWith("/**");
        String fixed = below ? g.substring(0, g.length() - 3) : g;
        int first = firstWildcard(g);
        if (fixed.indexOf('*') >= 0 || fixed.indexOf('?') >= 0) {
            // Cheap checks first: the literal text before the first and after the last wildcard.
            // The slash before a "**" belongs to what the stars match ("/a/**/b" matches "/a/b").
            String head = g.substring(0, first);
            if (g.startsWith("**", first) && head.endsWith("/")) {
                head = head.substring(0, head.length() - 1);
            }
            String tail = g.substring(Math.max(g.lastIndexOf('*'), g.lastIndexOf('?')) + 1);
            String start = head;
            String[] inner = innerLiterals(g);
            Pattern regex = pathGlob(glob);
            return subject -> subject.startsWith(start)
                    && subject.endsWith(tail)
                    && containsAll(subject, inner)
                    && regex.matcher(subject).matches();
        }
        if (!below) {
            return fixed::equals;
        }
        String dir = fixed + "/";
        return subject -> subject.startsWith(dir) || subject.equals(fixed);
    }

    /** The literal runs between wildcards, each of which a matching path must contain. */
    private static String[] innerLiterals(String glob) {
        List<String> pieces = new java.util.ArrayList<>();
        StringBuilder piece = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' || c == '?') {
                // The slash before a "**" is part of what the stars match.
                if (glob.startsWith("**", i) && !piece.isEmpty() && piece.charAt(piece.length() - 1) == '/') {
                    piece.setLength(piece.length() - 1);
                }
                if (!piece.isEmpty()) {
                    pieces.add(piece.toString());
                }
                piece.setLength(0);
            } else {
                piece.append(c);
            }
        }
        return pieces.toArray(String[]::new);
    }

    private static boolean containsAll(String subject, String[] pieces) {
        for (String piece : pieces) {
            if (!subject.contains(piece)) {
                return false;
            }
        }
        return true;
    }

    private static int firstWildcard(String glob) {
        int star = glob.indexOf('*');
        int question = glob.indexOf('?');
        return star < 0 ? question : question < 0 ? star : Math.min(star, question);
    }

    private static Predicate<String> wholeMatch(Pattern pattern) {
        return subject -> pattern.matcher(subject).matches();
    }

    /**
     * The common command patterns ({@code text}, {@code text*}, {@code *text}, {@code *text*}) are
     * plain string tests; anything else is a regular expression. Same meaning, a fraction of the cost.
     */
    static Predicate<String> commandMatcher(String glob) {
        String core = glob;
        boolean anyStart = core.startsWith("*");
        if (anyStart) {
            core = core.substring(1);
        }
        boolean anyEnd = core.endsWith("*");
        if (anyEnd) {
            core = core.substring(0, core.length() - 1);
        }
        if (core.indexOf('*') >= 0 || core.indexOf('?') >= 0) {
            return wholeMatch(commandGlob(glob));
        }
        String literal = core;
        if (anyStart && anyEnd) {
            return subject -> subject.contains(literal);
        }
        if (anyStart) {
            return subject -> subject.endsWith(literal);
        }
        if (anyEnd) {
            return subject -> subject.startsWith(literal);
        }
        return literal::equals;
    }

    /**
     * A command pattern: {@code *} matches any run of characters (spaces, slashes and newlines
     * too), {@code ?} one character; everything else is literal, and the whole command must match.
     */
    static Pattern commandGlob(String glob) {
        StringBuilder regex = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' || c == '?') {
                flush(regex, literal);
                regex.append(c == '*' ? ".*" : ".");
            } else {
                literal.append(c);
            }
        }
        flush(regex, literal);
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    /**
     * A path glob: {@code *} matches within one path segment, {@code **} across segments ({@code
     * /a/**} matches {@code /a} and everything below it), {@code ?} one character other than
     * {@code /}. A relative glob is relative to {@link #WORKSPACE}.
     */
    static Pattern pathGlob(String glob) {
        String g = glob.startsWith("/") ? glob : WORKSPACE + "/" + glob;
        StringBuilder regex = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < g.length()) {
            char c = g.charAt(i);
            if (g.startsWith("/**", i) && (i + 3 == g.length() || g.charAt(i + 3) == '/')) {
                flush(regex, literal);
                regex.append("(?:/.*)?");
                i += 3;
                // "/**/x" is "(/.*)?/x": the segment after the stars keeps its own slash.
            } else if (c == '*') {
                flush(regex, literal);
                if (g.startsWith("**", i)) {
                    regex.append(".*");
                    i += 2;
                } else {
                    regex.append("[^/]*");
                    i++;
                }
            } else if (c == '?') {
                flush(regex, literal);
                regex.append("[^/]");
                i++;
            } else {
                literal.append(c);
                i++;
            }
        }
        flush(regex, literal);
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    private static void flush(StringBuilder regex, StringBuilder literal) {
        if (!literal.isEmpty()) {
            regex.append(Pattern.quote(literal.toString()));
            literal.setLength(0);
        }
    }
}
