package dev.cordon.channel.email;

import dev.cordon.core.Domain.NewInbound;
import dev.cordon.core.channel.Backoff;
import dev.cordon.core.channel.Capabilities;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.DeliveryResult;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.channel.OutgoingMessage;
import jakarta.mail.Address;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.search.FlagTerm;
import jakarta.mail.search.HeaderTerm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The email adapter: reads one IMAP folder, sends through SMTP. The agent's mailbox is one chat,
 * {@code email:ADDRESS}, whose senders are the From addresses (lower case): its sender policy
 * decides who gets through, as in a group chat. A message's id is its Message-ID; its thread is
 * the first Message-ID of its References.
 *
 * <p>Durable before acknowledged: a message is marked seen only after the sink has decided on it
 * (stored, held, answered, or dropped and audited); until then it stays unseen and is offered
 * again on the next pass, and the host's dedup on the Message-ID keeps a redelivery from being
 * answered twice. Bodies are read with {@code BODY.PEEK}, so reading does not mark them seen.
 * New mail wakes the adapter through IMAP IDLE where the server offers it; otherwise, or with
 * {@code idle} off, it polls.
 *
 * <p>A reply goes to the Reply-To (else From) of the message it answers, with {@code Re:} subject,
 * {@code In-Reply-To} and {@code References}, so it stays in the sender's thread. Its Message-ID is
 * derived from the reply's idempotency key: a resent reply carries the same id, which mail
 * clients show once. SMTP 4xx answers and connection failures are retried; 5xx answers fail the
 * delivery with the server's words.
 *
 * <p>Thread-safe. One virtual thread reads and reconnects with {@link Backoff}; deliveries run on
 * the caller's thread.
 */
final class EmailChannel implements ChannelService {
    private static final Logger LOG = LoggerFactory.getLogger(EmailChannel.class);
    /** IMAP servers drop an IDLE after 30 minutes; it is renewed well before. */
    static final Duration IDLE_RENEWAL = Duration.ofMinutes(9);

    private static final Duration RETRY = Duration.ofSeconds(30);

    private final EmailSettings settings;
    private final Backoff backoff;
    private final Session imapSession;
    private final Session smtpSession;
    /** What a reply needs of the messages it may answer: Message-ID → correspondence. Bounded. */
    private final Map<String, Correspondence> recent = java.util.Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Correspondence> eldest) {
            return size() > 10_000;
        }
    });

    /**
     * Messages the host answered itself (a pairing code): the answer's text → whom to send it to. The
     * host's answer to such a message names no message it answers, as the code was never stored.
     */
    private final Map<String, Correspondence> answered = java.util.Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Correspondence> eldest) {
            return size() > 100;
        }
    });

    /** Held while the sink decides on a message, so the host's own answer to it is mapped before it is sent. */
    private final Object offering = new Object();

    /** Set once a connection's first pass is done and it idles or polls; cleared when it drops. */
    private volatile boolean waiting;

    private volatile InboundSink sink;
    private volatile IMAPFolder folder;
    private volatile Store store;
    private volatile boolean closed;
    private Thread loop;
    private Thread renewer;

    /** Who to answer and how: the reply's recipient, the original subject, and the thread's ids. */
    record Correspondence(String replyTo, String subject, List<String> references) {}

    EmailChannel(EmailSettings settings, Backoff backoff) {
        this.settings = settings;
        this.backoff = backoff;
        this.imapSession = Session.getInstance(properties("imap", settings.imap()));
        this.smtpSession = Session.getInstance(properties("smtp", settings.smtp()));
    }

    private static Properties properties(String protocol, EmailSettings.Server server) {
        String p = server.security() == EmailSettings.Security.TLS ? protocol + "s" : protocol;
        Properties props = new Properties();
        props.put("mail.store.protocol", p);
        props.put("mail.transport.protocol", p);
        props.put("mail." + p + ".host", server.host());
        props.put("mail." + p + ".port", Integer.toString(server.port()));
        props.put("mail." + p + ".connectiontimeout", "15000");
        // Longer than an IDLE lasts (IDLE_RENEWAL), so only a dead connection times out.
        props.put("mail." + p + ".timeout", protocol.equals("imap") ? "1200000" : "60000");
        props.put("mail." + p + ".writetimeout", "60000");
        // Reading a body must not mark it seen: that is done after the sink has it (invariant 6).
        props.put("mail." + p + ".peek", "true");
        if (server.security() == EmailSettings.Security.STARTTLS) {
            props.put("mail." + p + ".starttls.enable", "true");
            props.put("mail." + p + ".starttls.required", "true");
        }
        if (server.security() != EmailSettings.Security.NONE) {
            props.put("mail." + p + ".ssl.checkserveridentity", "true");
        }
        if (protocol.equals("smtp")) {
            props.put("mail." + p + ".auth", "true");
        }
        return props;
    }

    @Override
    public String name() {
        return Email.NAME;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, false, false, true, false, false, 0);
    }

    @Override
    public synchronized void start(InboundSink sink) {
        if (loop != null) {
            throw new IllegalStateException("the email adapter is already started");
        }
        this.sink = sink;
        loop = Thread.ofVirtual().name("email-" + settings.address()).start(this::run);
        renewer = Thread.ofVirtual().name("email-idle-" + settings.address()).start(this::renewIdle);
    }

    /**
     * Whether the mailbox is open and the adapter has read what was there and waits for more (for
     * tests and status): mail sent from now on is announced to it, not left to a later pass.
     */
    boolean isConnected() {
        IMAPFolder f = folder;
        return f != null && f.isOpen() && waiting;
    }

    private void run() {
        while (!closed) {
            try {
                Store s = imapSession.getStore();
                store = s;
                s.connect(settings.username(), settings.password());
                IMAPFolder f = (IMAPFolder) s.getFolder(settings.folder());
                f.open(Folder.READ_WRITE);
                folder = f;
                backoff.reset();
                boolean idle = settings.idle() && ((IMAPStore) s).hasCapability("IDLE");
                LOG.info(
                        "email adapter reading {} of {} ({})",
                        settings.folder(),
                        settings.address(),
                        idle ? "IDLE" : "polling every " + settings.poll().toSeconds() + " s");
                while (!closed) {
                    // Until a pass finds nothing: mail that came during a pass may not wake the IDLE.
                    while (sweep(f) > 0 && !closed) {
                        LOG.debug("looking again for mail that came in during the last pass");
                    }
                    waiting = true;
                    if (idle) {
                        f.idle(true);
                    } else {
                        Thread.sleep(settings.poll());
                    }
                }
            } catch (MessagingException | RuntimeException e) {
                if (!closed) {
                    LOG.warn("email connection to {} lost: {}", settings.imap().host(), e.toString());
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                waiting = false;
                folder = null;
                closeQuietly();
            }
            if (closed) {
                return;
            }
            try {
                Thread.sleep(backoff.next());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Ends each IDLE before servers drop it: a command on the folder makes the reader's IDLE return. */
    private void renewIdle() {
        while (!closed) {
            try {
                Thread.sleep(IDLE_RENEWAL);
                IMAPFolder f = folder;
                if (f != null && f.isOpen()) {
                    f.getMessageCount();
                }
            } catch (InterruptedException e) {
                return;
            } catch (MessagingException | RuntimeException e) {
                LOG.debug("IDLE renewal", e);
            }
        }
    }

    /**
     * Offers every unseen message to the sink, oldest first; marks each seen once the sink decided.
     * Returns how many it marked seen.
     */
    int sweep(Folder f) throws MessagingException {
        Message[] unseen = f.search(new FlagTerm(new Flags(Flags.Flag.SEEN), false));
        int decided = 0;
        for (Message message : unseen) {
            if (closed) {
                break;
            }
            if (offer((MimeMessage) message)) {
                message.setFlag(Flags.Flag.SEEN, true);
                decided++;
            }
        }
        return decided;
    }

    /** Whether the message is decided on (so it may be marked seen). */
    private boolean offer(MimeMessage message) throws MessagingException {
        String id = message.getMessageID();
        String from = sender(message);
        if (id == null || id.isBlank()) {
            id = "<uid-" + ((IMAPFolder) message.getFolder()).getUIDValidity() + "."
                    + ((IMAPFolder) message.getFolder()).getUID(message) + "@" + settings.domain() + ">";
        }
        if (from == null || from.equals(settings.address())) {
            return true; // nobody to answer, or our own mail looping back
        }
        String why = automatic(message);
        if (why != null) {
            // Answering an auto-reply or a list would start a mail loop.
            LOG.info("email {} from {} not passed on: {}", id, from, why);
            return true;
        }
        String text;
        List<InboundFile> files;
        try {
            text = MailText.body(message);
            files = MailFiles.of(message);
        } catch (IOException e) {
            throw new MessagingException("cannot read the body of " + id, e);
        }
        if (text.isEmpty()) {
            text = message.getSubject() == null ? "" : message.getSubject().strip();
        }
        List<String> references = MailText.ids(message.getHeader("References", " "));
        List<String> inReplyTo = MailText.ids(message.getHeader("In-Reply-To", " "));
        String thread =
                !references.isEmpty() ? references.getFirst() : !inReplyTo.isEmpty() ? inReplyTo.getFirst() : id;
        remember(id, message, from, references);
        try {
            InboundSink.InboundResult result;
            synchronized (offering) {
                result = sink.accept(new NewInbound(
                        Email.NAME,
                        settings.address(),
                        id,
                        from,
                        text,
                        true,
                        thread,
                        inReplyTo.isEmpty() ? null : inReplyTo.getFirst(),
                        files));
                if (result instanceof InboundSink.InboundResult.Answered a) {
                    answered.put(a.reply(), recent.get(id));
                }
            }
            if (result instanceof InboundSink.InboundResult.Dropped d) {
                LOG.info("email {} from {} dropped: {}", id, from, d.reason());
            }
            return true;
        } catch (RuntimeException e) {
            // Not marked seen: offered again on the next pass.
            LOG.error("could not store email {} from {}; it stays unseen and is offered again", id, from, e);
            return false;
        }
    }

    private void remember(String id, MimeMessage message, String from, List<String> references)
            throws MessagingException {
        Address[] replyTo = message.getReplyTo();
        String to = replyTo != null && replyTo.length > 0 && replyTo[0] instanceof InternetAddress a
                ? a.getAddress()
                : from;
        List<String> thread = new ArrayList<>(references);
        thread.add(id);
        recent.put(id, new Correspondence(to, message.getSubject(), List.copyOf(thread)));
    }

    private static String sender(MimeMessage message) throws MessagingException {
        Address[] from = message.getFrom();
        if (from == null || from.length == 0 || !(from[0] instanceof InternetAddress a) || a.getAddress() == null) {
            return null;
        }
        return a.getAddress().toLowerCase(Locale.ROOT);
    }

    /** Why the message is machine-sent (RFC 3834 Auto-Submitted, Precedence), or null. */
    private static String automatic(MimeMessage message) throws MessagingException {
        String auto = message.getHeader("Auto-Submitted", null);
        if (auto != null && !auto.strip().equalsIgnoreCase("no")) {
            return "Auto-Submitted: " + auto.strip();
        }
        String precedence = message.getHeader("Precedence", null);
        if (precedence != null
                && List.of("bulk", "junk", "list").contains(precedence.strip().toLowerCase(Locale.ROOT))) {
            return "Precedence: " + precedence.strip();
        }
        return null;
    }

    @Override
    public DeliveryResult deliver(OutgoingMessage message) {
        String answering = message.replyToPlatformMessageId();
        Correspondence hostAnswer = null;
        if (answering == null) {
            // The host may be storing its answer right now, before the adapter has mapped it.
            synchronized (offering) {
                hostAnswer = answered.get(message.text());
            }
        }
        if (answering == null && hostAnswer == null) {
            return new DeliveryResult.Failed("an email from the agent must answer a message: there is no address to"
                    + " send one that answers nothing to");
        }
        if (hostAnswer != null) {
            answering = hostAnswer.references().getLast();
        }
        Correspondence to;
        try {
            to = hostAnswer != null ? hostAnswer : correspondence(answering);
        } catch (MessagingException e) {
            return new DeliveryResult.RetryLater(RETRY, "cannot look up " + answering + " in the mailbox: " + e);
        }
        if (to == null) {
            IMAPFolder f = folder;
            return f == null
                    ? new DeliveryResult.RetryLater(RETRY, "not connected to the mailbox to look up " + answering)
                    : new DeliveryResult.Failed("the message being answered, " + answering + ", is no longer in "
                            + settings.folder() + " of " + settings.address());
        }
        String id = messageId(message.idempotencyKey());
        try {
            MimeMessage mail = new FixedIdMessage(smtpSession, id);
            mail.setFrom(new InternetAddress(settings.address()));
            mail.setRecipient(Message.RecipientType.TO, new InternetAddress(to.replyTo()));
            mail.setSubject(MailText.replySubject(to.subject()), "UTF-8");
            mail.setHeader("In-Reply-To", answering);
            mail.setHeader("References", String.join(" ", to.references()));
            mail.setHeader("Auto-Submitted", "auto-replied");
            if (message.file() == null) {
                mail.setText(message.text(), "UTF-8");
            } else {
                MailAttachment.fill(mail, message.text(), message.file());
            }
            Transport.send(mail, settings.username(), settings.password());
            if (hostAnswer != null) {
                answered.remove(message.text());
            }
            return new DeliveryResult.Delivered(id);
        } catch (MessagingException e) {
            return SmtpFailure.classify(e, RETRY);
        } catch (java.io.IOException e) {
            return new DeliveryResult.RetryLater(RETRY, "cannot read the file to attach: " + e.getMessage());
        }
    }

    private Correspondence correspondence(String messageId) throws MessagingException {
        Correspondence known = recent.get(messageId);
        if (known != null) {
            return known;
        }
        IMAPFolder f = folder;
        if (f == null) {
            return null;
        }
        // Known before a restart: the mailbox still has it.
        for (Message m : f.search(new HeaderTerm("Message-ID", messageId))) {
            MimeMessage mime = (MimeMessage) m;
            if (messageId.equals(mime.getMessageID())) {
                String from = sender(mime);
                if (from != null) {
                    remember(messageId, mime, from, MailText.ids(mime.getHeader("References", " ")));
                    return recent.get(messageId);
                }
            }
        }
        return null;
    }

    /** A Message-ID that is the same for every attempt to send one reply. */
    String messageId(String idempotencyKey) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(idempotencyKey.getBytes(StandardCharsets.UTF_8));
            return "<cordon." + HexFormat.of().formatHex(hash, 0, 16) + "@" + settings.domain() + ">";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Keeps the Message-ID it was given instead of making a new one on every save. */
    private static final class FixedIdMessage extends MimeMessage {
        private final String id;

        FixedIdMessage(Session session, String id) {
            super(session);
            this.id = id;
        }

        @Override
        protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", id);
        }
    }

    private void closeQuietly() {
        Store s = store;
        if (s != null) {
            try {
                s.close();
            } catch (MessagingException | RuntimeException e) {
                LOG.debug("closing the IMAP store", e);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly();
        Thread a;
        Thread b;
        synchronized (this) {
            a = loop;
            b = renewer;
        }
        for (Thread t : new Thread[] {a, b}) {
            if (t != null) {
                t.interrupt();
                try {
                    t.join(Duration.ofSeconds(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
