package dev.cordon.channel.irc;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The IRC adapter: one connection to one server, the configured channels joined, private messages
 * to the nick accepted. Chats are {@code #channel} (lower case) and, for private messages, the
 * other person's nick (lower case); senders are nicks. A channel message is addressed to the bot
 * when it starts with {@code nick:} or {@code nick,} (stripped before the host sees it); a private
 * message always is.
 *
 * <p>IRC has no message ids and no acknowledgements: an inbound message is handed to the sink as it
 * arrives (a server does not redeliver, so nothing is lost by acking late or early), with the
 * IRCv3 {@code msgid} tag as its id where the server sends one. A reply counts as delivered when
 * the server has answered a PING sent after its lines: the server handles a client's lines in
 * order, so by then it has relayed them or said why not (401 no such nick, 404 cannot send to
 * channel), which makes the delivery a permanent failure. A connection lost before that PONG makes
 * it a retry, which may show the reply twice; IRC offers nothing better.
 *
 * <p>Thread-safe. One virtual thread connects, reads and reconnects with {@link Backoff}; deliveries
 * run on the caller's thread, one at a time per connection, paced by {@link Pacer}.
 */
final class IrcChannel implements ChannelService {
    private static final Logger LOG = LoggerFactory.getLogger(IrcChannel.class);
    /** Silence after which the adapter pings the server; twice that without a word means the link is dead. */
    private static final Duration IDLE = Duration.ofSeconds(90);
    /**
     * How often a bot that registered under a stand-in nick (its own was taken, perhaps by its ghost
     * from before a crash) asks for its own nick back; sooner when the holder is seen leaving.
     */
    static final Duration RECLAIM = Duration.ofSeconds(30);

    private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration NOT_CONNECTED_RETRY = Duration.ofSeconds(5);
    /** Replies to the PRIVMSG lines of a delivery that mean the target cannot be reached. */
    private static final Set<String> UNDELIVERABLE = Set.of("401", "403", "404", "407", "411", "412", "413");

    private final IrcSettings settings;
    private final Backoff backoff;
    private final Pacer pacer;
    private final AtomicLong pings = new AtomicLong();
    private volatile InboundSink sink;
    private volatile Connection ready;
    private volatile Connection current;
    private volatile boolean closed;
    private Thread loop;

    IrcChannel(IrcSettings settings, Backoff backoff, Pacer pacer) {
        this.settings = settings;
        this.backoff = backoff;
        this.pacer = pacer;
    }

    @Override
    public String name() {
        return Irc.NAME;
    }

    /** Plain text; the host splits above 4,000 characters and this adapter splits into IRC lines. */
    @Override
    public Capabilities capabilities() {
        return Capabilities.text(4_000);
    }

    @Override
    public synchronized void start(InboundSink sink) {
        if (loop != null) {
            throw new IllegalStateException("the IRC adapter is already started");
        }
        this.sink = sink;
        loop = Thread.ofVirtual().name("irc-" + settings.address()).start(this::run);
    }

    /** Whether the adapter is registered and in all its channels now (for tests and status). */
    boolean isReady() {
        return ready != null;
    }

    private void run() {
        while (!closed) {
            try (Connection c = new Connection(open())) {
                current = c;
                c.serve();
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.warn("IRC connection to {} lost: {}", settings.address(), e.toString());
                }
            } finally {
                ready = null;
                current = null;
            }
            if (closed) {
                return;
            }
            Duration wait = backoff.next();
            LOG.info("reconnecting to IRC server {} in {} ms", settings.address(), wait.toMillis());
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private Socket open() throws IOException {
        InetSocketAddress address = new InetSocketAddress(settings.host(), settings.port());
        Socket socket;
        if (settings.tls()) {
            SSLSocket tls = (SSLSocket) SSLSocketFactory.getDefault().createSocket();
            SSLParameters params = tls.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(params);
            socket = tls;
        } else {
            socket = new Socket();
        }
        socket.connect(address, 10_000);
        socket.setSoTimeout((int) RECLAIM.toMillis());
        return socket;
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        Connection c = ready;
        if (c == null) {
            return new DeliveryResult.RetryLater(
                    NOT_CONNECTED_RETRY, "not connected to the IRC server " + settings.address() + " yet");
        }
        return c.deliver(message);
    }

    @Override
    public void close() {
        closed = true;
        Connection c = current;
        if (c != null) {
            c.quit();
        }
        Thread t;
        synchronized (this) {
            t = loop;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One TCP connection: registration, joins, the read loop, and deliveries over it. */
    private final class Connection implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final Set<String> joined = ConcurrentHashMap.newKeySet();
        private final java.util.Map<String, String> unjoinable = new ConcurrentHashMap<>();
        private final java.util.Map<String, CompletableFuture<String>> confirmations = new ConcurrentHashMap<>();
        private final Object delivering = new Object();
        /** The first refusal the server sent for the delivery in progress, or null. */
        private volatile String refusal;

        private volatile String nick = settings.nick();
        /** When a bot under a stand-in nick next asks for its own ({@link System#nanoTime}). */
        private long nextReclaim = System.nanoTime() + RECLAIM.toNanos();

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
        }

        void serve() throws IOException {
            if (settings.password() != null) {
                send("PASS " + settings.password());
            }
            send("NICK " + nick);
            send("USER " + settings.nick() + " 0 * :Cordon");
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            boolean pinged = false;
            long heard = System.nanoTime();
            while (!closed) {
                String text;
                try {
                    text = in.readLine();
                } catch (SocketTimeoutException e) {
                    reclaimNick(false);
                    long silent = System.nanoTime() - heard;
                    if (pinged && silent >= IDLE.multipliedBy(2).toNanos()) {
                        throw new IOException("the server said nothing for "
                                + IDLE.multipliedBy(2).toSeconds() + " s");
                    }
                    if (!pinged && silent >= IDLE.toNanos()) {
                        send("PING :cordon-alive");
                        pinged = true;
                    }
                    continue;
                }
                if (text == null) {
                    throw new IOException("the server closed the connection");
                }
                pinged = false;
                heard = System.nanoTime();
                handle(IrcLine.parse(text));
                reclaimNick(false);
            }
        }

        /**
         * Asks for the configured nick again if the bot is registered under a stand-in: now if
         * {@code now}, else when {@link #RECLAIM} has passed since the last ask. A refusal (433)
         * after registration changes nothing; the next ask comes later.
         */
        private void reclaimNick(boolean now) throws IOException {
            if (ready == null || nick.equalsIgnoreCase(settings.nick())) {
                return;
            }
            long t = System.nanoTime();
            if (now || t - nextReclaim >= 0) {
                nextReclaim = t + RECLAIM.toNanos();
                send("NICK " + settings.nick());
            }
        }

        private void handle(IrcLine line) throws IOException {
            switch (line.command()) {
                case "PING" -> send("PONG :" + line.param(0));
                case "PONG" -> {
                    CompletableFuture<String> waiting =
                            confirmations.remove(line.param(line.params().size() - 1));
                    if (waiting != null) {
                        waiting.complete(refusal);
                    }
                }
                case "001" -> {
                    nick = line.param(0);
                    backoff.reset();
                    LOG.info("registered on IRC server {} as {}", settings.address(), nick);
                    if (settings.channels().isEmpty()) {
                        ready = this;
                    } else {
                        send("JOIN " + String.join(",", settings.channels()));
                    }
                }
                // Nick taken (perhaps by our own ghost from before a reconnect): try another.
                case "432", "433", "436" -> {
                    if (ready == null) {
                        nick = nick.length() < 30 ? nick + "_" : settings.nick() + pings.incrementAndGet() % 1000;
                        send("NICK " + nick);
                    }
                }
                case "JOIN" -> {
                    if (line.nick().equalsIgnoreCase(nick)) {
                        joined.add(line.param(0).toLowerCase(Locale.ROOT));
                        checkReady();
                    }
                }
                case "KICK" -> {
                    if (line.param(1).equalsIgnoreCase(nick)) {
                        String channel = line.param(0).toLowerCase(Locale.ROOT);
                        joined.remove(channel);
                        LOG.warn("kicked from {} by {}: {}; joining again", channel, line.nick(), line.param(2));
                        send("JOIN " + channel);
                    }
                }
                case "NICK" -> {
                    if (line.nick().equalsIgnoreCase(nick)) {
                        nick = line.param(0);
                        if (nick.equalsIgnoreCase(settings.nick())) {
                            LOG.info("took back the nick {} on {}", nick, settings.address());
                        }
                    } else if (line.nick().equalsIgnoreCase(settings.nick())) {
                        reclaimNick(true); // whoever held our nick took another
                    }
                }
                case "QUIT" -> {
                    if (line.nick().equalsIgnoreCase(settings.nick())) {
                        reclaimNick(true); // whoever held our nick left
                    }
                }
                // Cannot join: banned, invite only, bad key, full, no such channel.
                case "471", "473", "474", "475", "403" -> {
                    if (ready == null
                            && settings.channels().contains(line.param(1).toLowerCase(Locale.ROOT))) {
                        unjoinable.put(line.param(1).toLowerCase(Locale.ROOT), line.param(2));
                        LOG.warn("cannot join {} on {}: {}", line.param(1), settings.address(), line.param(2));
                        checkReady();
                    } else {
                        refused(line);
                    }
                }
                case "PRIVMSG" -> inbound(line);
                default -> {
                    if (UNDELIVERABLE.contains(line.command())) {
                        refused(line);
                    }
                }
            }
        }

        private void refused(IrcLine line) {
            if (refusal == null) {
                refusal = line.command() + " " + line.param(1) + ": "
                        + line.param(line.params().size() - 1);
            }
        }

        private void checkReady() {
            if (ready == null
                    && joined.size() + unjoinable.size() >= settings.channels().size()) {
                ready = this;
                LOG.info("IRC adapter ready on {}: joined {}", settings.address(), joined);
            }
        }

        private void inbound(IrcLine line) {
            String target = line.param(0);
            String text = line.param(1);
            if (text.startsWith("\u0001")) {
                return; // CTCP (VERSION, ACTION, DCC ...): not a message to the agent
            }
            String sender = line.nick().toLowerCase(Locale.ROOT);
            boolean direct = target.equalsIgnoreCase(nick);
            boolean mentioned = direct;
            if (!direct) {
                // People keep addressing the configured nick while the bot is under a stand-in.
                String lower = text.toLowerCase(Locale.ROOT);
                for (String me :
                        List.of(nick.toLowerCase(Locale.ROOT), settings.nick().toLowerCase(Locale.ROOT))) {
                    if (lower.startsWith(me + ":") || lower.startsWith(me + ",")) {
                        mentioned = true;
                        text = text.substring(me.length() + 1).strip();
                        break;
                    }
                }
            }
            String chat = direct ? sender : target.toLowerCase(Locale.ROOT);
            String id = line.tags().getOrDefault("msgid", "irc-" + UUID.randomUUID());
            try {
                InboundSink.InboundResult result =
                        sink.accept(new NewInbound(Irc.NAME, chat, id, sender, text, mentioned, null, null));
                if (result instanceof InboundSink.InboundResult.Dropped d && mentioned) {
                    LOG.info("IRC message from {} in {} dropped: {}", sender, chat, d.reason());
                }
            } catch (RuntimeException e) {
                // IRC cannot redeliver: the message is lost, and said so.
                LOG.error("could not store the IRC message from {} in {}; it is lost", sender, chat, e);
            }
        }

        DeliveryResult deliver(OutgoingMessage message) {
            String target = message.platformChatId();
            if (target.startsWith("#") || target.startsWith("&")) {
                String why = unjoinable.get(target);
                if (why != null) {
                    return new DeliveryResult.Failed("the IRC adapter could not join " + target + ": " + why);
                }
            }
            synchronized (delivering) {
                refusal = null;
                String token = "cordon-" + pings.incrementAndGet();
                CompletableFuture<String> confirmed = new CompletableFuture<>();
                confirmations.put(token, confirmed);
                try {
                    for (String text : IrcText.lines(message.text(), IrcText.maxTextBytes(nick, target))) {
                        Thread.sleep(pacer.take());
                        send("PRIVMSG " + target + " :" + text);
                    }
                    send("PING :" + token);
                    String refused = confirmed.get(CONFIRM_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    if (refused != null) {
                        return new DeliveryResult.Failed(
                                "the IRC server refused the message to " + target + ": " + refused);
                    }
                    return new DeliveryResult.Delivered(token);
                } catch (IOException | ExecutionException | TimeoutException e) {
                    return new DeliveryResult.RetryLater(
                            NOT_CONNECTED_RETRY, "the IRC connection failed before the server confirmed: " + e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new DeliveryResult.RetryLater(NOT_CONNECTED_RETRY, "interrupted");
                } finally {
                    confirmations.remove(token);
                }
            }
        }

        private void send(String line) throws IOException {
            byte[] bytes = (line + "\r\n").getBytes(StandardCharsets.UTF_8);
            synchronized (out) {
                out.write(bytes);
                out.flush();
            }
        }

        void quit() {
            try {
                send("QUIT :Cordon is stopping");
            } catch (IOException e) {
                // already gone
            }
            close();
        }

        @Override
        public void close() {
            confirmations.values().forEach(f -> f.completeExceptionally(new IOException("connection closed")));
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing the IRC socket", e);
            }
        }
    }
}
