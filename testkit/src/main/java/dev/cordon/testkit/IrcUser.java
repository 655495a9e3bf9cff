package dev.cordon.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A person on IRC, for tests: a raw client that registers, joins channels, speaks, and collects
 * the PRIVMSG lines it receives. Speaks the wire protocol itself, so it checks the adapter, not a
 * shared library.
 */
public final class IrcUser implements AutoCloseable {
    /** One PRIVMSG as received: who sent it, to which target, and the text. */
    public record Said(String from, String target, String text) {}

    private final Socket socket;
    private final OutputStream out;
    private final String nick;
    private final LinkedBlockingQueue<Said> heard = new LinkedBlockingQueue<>();
    private final List<String> raw = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<String> numerics = new LinkedBlockingQueue<>();

    private IrcUser(Socket socket, String nick) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.nick = nick;
    }

    /** Connects as {@code nick}; returns once the server welcomed it. */
    public static IrcUser connect(String host, int port, String nick) throws IOException, InterruptedException {
        return connect(host, port, nick, null);
    }

    /** As {@link #connect(String, int, String)}, sending the server's {@code password} first. */
    public static IrcUser connect(String host, int port, String nick, String password)
            throws IOException, InterruptedException {
        IrcUser user = new IrcUser(new Socket(host, port), nick);
        Thread.ofVirtual().name("irc-user-" + nick).start(user::read);
        if (password != null) {
            user.send("PASS " + password);
        }
        user.send("NICK " + nick);
        user.send("USER " + nick + " 0 * :" + nick);
        user.awaitNumeric("001", Duration.ofSeconds(20));
        return user;
    }

    /** Joins {@code channel}; returns once the server has confirmed it (the end of the names list). */
    public void join(String channel) throws IOException, InterruptedException {
        send("JOIN " + channel);
        awaitNumeric("366", Duration.ofSeconds(20));
    }

    /** Waits until {@code nick} is in {@code channel}, asking the server (NAMES) every 200 ms. */
    public void awaitMember(String channel, String nick, Duration timeout) throws IOException, InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            boolean there = raw.stream().anyMatch(l -> {
                String[] w = l.split(" ", 6);
                if (w.length >= 3 && w[1].equals("JOIN") && w[0].startsWith(":" + nick + "!")) {
                    return true;
                }
                return w.length == 6
                        && w[1].equals("353")
                        && w[4].equalsIgnoreCase(channel)
                        && java.util.Arrays.stream(w[5].replaceFirst("^:", "").split(" "))
                                .map(n -> n.replaceFirst("^[@+%~&]", ""))
                                .anyMatch(nick::equalsIgnoreCase);
            });
            if (there) {
                return;
            }
            send("NAMES " + channel);
            Thread.sleep(200);
        }
        throw new AssertionError(nick + " did not join " + channel + " within " + timeout + "; raw lines: " + raw);
    }

    public void say(String target, String text) throws IOException {
        send("PRIVMSG " + target + " :" + text);
    }

    public synchronized void send(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The next message received that matches, waiting up to {@code timeout}; fails the test if none. */
    public Said await(Predicate<Said> matching, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            Said said = left <= 0 ? null : heard.poll(left, TimeUnit.NANOSECONDS);
            if (said == null) {
                throw new AssertionError(nick + " heard nothing matching within " + timeout + "; raw lines: " + raw);
            }
            if (matching.test(said)) {
                return said;
            }
        }
    }

    /** Whatever messages arrive within {@code quiet}: for checking that nothing (more) comes. */
    public List<Said> drain(Duration quiet) throws InterruptedException {
        List<Said> got = new java.util.ArrayList<>();
        Said said;
        while ((said = heard.poll(quiet.toMillis(), TimeUnit.MILLISECONDS)) != null) {
            got.add(said);
        }
        return got;
    }

    /** Every raw line received so far. */
    public List<String> raw() {
        return List.copyOf(raw);
    }

    private void awaitNumeric(String code, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            String got = left <= 0 ? null : numerics.poll(left, TimeUnit.NANOSECONDS);
            if (got == null) {
                throw new AssertionError(nick + " got no " + code + " within " + timeout + "; raw lines: " + raw);
            }
            if (got.equals(code)) {
                return;
            }
        }
    }

    private void read() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                raw.add(line);
                String[] words = line.split(" ", 4);
                if (words[0].equals("PING")) {
                    send("PONG " + line.substring(5));
                } else if (words.length >= 2 && words[1].matches("\\d{3}")) {
                    numerics.add(words[1]);
                } else if (words.length == 4 && words[1].equals("PRIVMSG")) {
                    String from = words[0].substring(1).split("!", 2)[0];
                    String text = words[3].startsWith(":") ? words[3].substring(1) : words[3];
                    heard.add(new Said(from, words[2], text));
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        try {
            send("QUIT :bye");
        } catch (IOException e) {
            // already gone
        }
        socket.close();
    }
}
