package dev.cordon.server;

import dev.cordon.egress.vault.Vault;
import dev.cordon.egress.vault.VaultException;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code cordon secret set|list|rm}: the host's secret vault (docs/egress.md). A value is read from
 * standard input, never from the command line (which other users can see in ps and which lands in
 * shell history). Works on the files directly; a running daemon uses a changed secret from its next
 * request.
 */
final class SecretCommand {
    static final String USAGE = """
            usage: cordon secret set NAME --bind HOST[/PATH]:header=NAME|query=NAME [--bind ...]   (value on stdin)
                   cordon secret set NAME --host-only   (for the daemon itself, e.g. store.password_secret)
                   cordon secret list
                   cordon secret rm NAME
              An agent uses a secret by sending its placeholder, cordon-secret-NAME, in the bound header or
              query parameter of a plain http:// request through the proxy; the proxy puts the value in and
              sends the request on over HTTPS. The agent's policy must list the secret (egress.secrets).""";

    private SecretCommand() {}

    static int run(Home home, List<String> args, InputStream stdin, PrintStream out, PrintStream err) {
        if (args.isEmpty()) {
            err.println(USAGE);
            return 2;
        }
        Vault vault = Vault.open(home.vault(), home.vaultKey());
        try {
            return switch (args.getFirst()) {
                case "set" -> set(vault, args.subList(1, args.size()), stdin, out, err);
                case "list" -> list(vault, out);
                case "rm" -> {
                    if (args.size() != 2) {
                        err.println(USAGE);
                        yield 2;
                    }
                    boolean removed = vault.remove(args.get(1));
                    out.println(removed ? "removed " + args.get(1) : "no secret " + args.get(1));
                    yield removed ? 0 : 1;
                }
                default -> {
                    err.println(USAGE);
                    yield 2;
                }
            };
        } catch (VaultException | IllegalArgumentException e) {
            err.println("cordon secret: " + e.getMessage());
            return 1;
        }
    }

    private static int set(Vault vault, List<String> args, InputStream stdin, PrintStream out, PrintStream err) {
        if (args.isEmpty() || args.getFirst().startsWith("-")) {
            err.println(USAGE);
            return 2;
        }
        String name = args.getFirst();
        List<Vault.Binding> bindings = new ArrayList<>();
        if (args.size() == 2 && args.get(1).equals("--host-only")) {
            return store(vault, name, bindings, stdin, out);
        }
        if (args.size() == 1) {
            throw new IllegalArgumentException("secret " + name + " needs at least one binding (--bind), or"
                    + " --host-only for a secret only the daemon uses (a store password)");
        }
        for (int i = 1; i < args.size(); i++) {
            if (!args.get(i).equals("--bind") || i + 1 == args.size()) {
                err.println("cordon secret set: unexpected '" + args.get(i) + "'\n" + USAGE);
                return 2;
            }
            bindings.add(binding(args.get(++i)));
        }
        return store(vault, name, bindings, stdin, out);
    }

    private static int store(
            Vault vault, String name, List<Vault.Binding> bindings, InputStream stdin, PrintStream out) {
        byte[] value = readValue(name, stdin);
        try {
            vault.put(name, value, bindings);
        } finally {
            Arrays.fill(value, (byte) 0);
        }
        out.println(
                bindings.isEmpty()
                        ? "stored " + name + " for the host only: no agent can send it anywhere"
                        : "stored " + name + " ("
                                + bindings.stream().map(Vault.Binding::describe).toList()
                                + "); agents send it as " + Vault.placeholder(name));
        return 0;
    }

    /** {@code api.github.com/repos:header=Authorization} or {@code maps.example.com:query=key}. */
    static Vault.Binding binding(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(
                    "--bind '" + spec + "': expected HOST[/PATH]:header=NAME or HOST[/PATH]:query=NAME");
        }
        String where = spec.substring(0, colon);
        String place = spec.substring(colon + 1);
        int slash = where.indexOf('/');
        String host = slash < 0 ? where : where.substring(0, slash);
        String path = slash < 0 ? "/" : where.substring(slash);
        if (place.startsWith("header=") && place.length() > 7) {
            return new Vault.Binding(host, path, place.substring(7), null);
        }
        if (place.startsWith("query=") && place.length() > 6) {
            return new Vault.Binding(host, path, null, place.substring(6));
        }
        throw new IllegalArgumentException("--bind '" + spec + "': after the colon, header=NAME or query=NAME");
    }

    private static byte[] readValue(String name, InputStream stdin) {
        Console console = System.console();
        if (console != null && stdin == System.in) {
            char[] typed = console.readPassword("value of %s (not echoed): ", name);
            if (typed == null) {
                throw new IllegalArgumentException("no value given");
            }
            return new String(typed).getBytes(StandardCharsets.UTF_8);
        }
        try {
            byte[] all = stdin.readAllBytes();
            int end = all.length;
            // "echo value | cordon secret set" adds a newline that is not part of the secret.
            if (end > 0 && all[end - 1] == '\n') {
                end--;
                if (end > 0 && all[end - 1] == '\r') {
                    end--;
                }
            }
            return Arrays.copyOf(all, end);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the value from standard input: " + e.getMessage());
        }
    }

    private static int list(Vault vault, PrintStream out) {
        List<Vault.Entry> entries = vault.list();
        if (entries.isEmpty()) {
            out.println("no secrets (cordon secret set NAME --bind HOST:header=NAME < value-file)");
        }
        for (Vault.Entry e : entries) {
            out.println(e.name() + "  "
                    + (e.bindings().isEmpty()
                            ? "host only"
                            : e.bindings().stream()
                                    .map(Vault.Binding::describe)
                                    .toList()
                                    .toString())
                    + "  updated " + e.updated());
        }
        return 0;
    }
}
