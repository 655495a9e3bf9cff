package dev.cordon.server;

import dev.cordon.channel.discord.Discord;
import dev.cordon.channel.discord.DiscordSettings;
import dev.cordon.channel.email.Email;
import dev.cordon.channel.email.EmailSettings;
import dev.cordon.channel.github.GitHub;
import dev.cordon.channel.github.GitHubSettings;
import dev.cordon.channel.irc.Irc;
import dev.cordon.channel.irc.IrcSettings;
import dev.cordon.channel.matrix.Matrix;
import dev.cordon.channel.matrix.MatrixSettings;
import dev.cordon.channel.slack.Slack;
import dev.cordon.channel.slack.SlackSettings;
import dev.cordon.channel.telegram.Telegram;
import dev.cordon.channel.telegram.TelegramSettings;
import dev.cordon.channel.webhook.Webhook;
import dev.cordon.channel.webhook.WebhookSettings;
import dev.cordon.channel.whatsapp.WhatsApp;
import dev.cordon.channel.whatsapp.WhatsAppSettings;
import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.access.Access;
import dev.cordon.core.access.Role;
import dev.cordon.core.access.UserId;
import dev.cordon.core.channel.ChannelAdapter;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.HookChannel;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.core.store.Store;
import dev.cordon.egress.vault.Vault;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat platforms the daemon connects to, built from {@code cordon.yaml}'s {@code channels:}
 * block with their passwords from the vault. The daemon hands {@link #adapters} to delivery, starts
 * them with the router once everything else is up, and closes them first on the way down.
 */
final class Channels implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Channels.class);
    private final List<ChannelService> services;
    /** The channels whose group chats engage on mention ({@code engage: mention}, the default). */
    private final Set<String> mentionOnly;
    /** The signed webhook endpoints, whose chats the daemon wires to their agents ({@link #wireEndpoints}). */
    private final List<ChannelSettings.WebhookEndpoint> endpoints;

    private Channels(
            List<ChannelService> services, Set<String> mentionOnly, List<ChannelSettings.WebhookEndpoint> endpoints) {
        this.services = services;
        this.mentionOnly = mentionOnly;
        this.endpoints = endpoints;
    }

    /**
     * The adapters {@code settings} enables, not yet started.
     *
     * @param data the daemon's data directory: adapters keep their read position under {@code
     *     channels/} there (Matrix's sync token, Discord's gateway session)
     * @throws ConfigException if a named secret is not in the vault
     */
    static Channels of(ChannelSettings settings, Vault vault, Path data) {
        List<ChannelService> services = new ArrayList<>();
        Set<String> mentionOnly = new HashSet<>();
        ChannelSettings.Irc irc = settings.irc();
        if (irc != null) {
            if (irc.mentionOnly()) {
                mentionOnly.add(Irc.NAME);
            }
            IrcSettings s = irc.settings();
            IrcSettings filled = new IrcSettings(
                    s.host(),
                    s.port(),
                    s.tls(),
                    s.nick(),
                    s.channels(),
                    password(vault, "channels.irc.password_secret", irc.passwordSecret()));
            services.add(new RenewableChannel(() -> Irc.channel(filled)));
        }
        ChannelSettings.Email email = settings.email();
        if (email != null) {
            EmailSettings s = email.settings();
            EmailSettings filled = new EmailSettings(
                    s.imap(),
                    s.smtp(),
                    s.address(),
                    s.username(),
                    password(vault, "channels.email.password_secret", email.passwordSecret()),
                    s.folder(),
                    s.idle(),
                    s.poll());
            services.add(new RenewableChannel(() -> Email.channel(filled)));
        }
        ChannelSettings.Telegram telegram = settings.telegram();
        if (telegram != null) {
            if (telegram.mentionOnly()) {
                mentionOnly.add(Telegram.NAME);
            }
            TelegramSettings s = telegram.settings();
            String field = "channels.telegram.token_secret";
            String token = password(vault, field, telegram.tokenSecret());
            TelegramSettings filled = checked(
                    field, telegram.tokenSecret(), () -> new TelegramSettings(s.apiUrl(), token, s.pollTimeout()));
            services.add(
                    telegram.webhookUrl() == null
                            ? new RenewableChannel(() -> Telegram.channel(filled))
                            : Telegram.webhook(filled, telegram.webhookUrl()));
        }
        ChannelSettings.Matrix matrix = settings.matrix();
        if (matrix != null) {
            if (matrix.mentionOnly()) {
                mentionOnly.add(Matrix.NAME);
            }
            MatrixSettings s = matrix.settings();
            String field = "channels.matrix.token_secret";
            String token = password(vault, field, matrix.tokenSecret());
            MatrixSettings filled = checked(
                    field,
                    matrix.tokenSecret(),
                    () -> new MatrixSettings(
                            s.homeserver(),
                            token,
                            s.pollTimeout(),
                            s.joinOnInvite(),
                            data.resolve("channels").resolve("matrix-sync-token")));
            services.add(new RenewableChannel(() -> Matrix.channel(filled)));
        }
        ChannelSettings.Slack slack = settings.slack();
        if (slack != null) {
            if (slack.mentionOnly()) {
                mentionOnly.add(Slack.NAME);
            }
            try {
                SlackSettings filled = new SlackSettings(
                        slack.settings().api(),
                        password(vault, "channels.slack.app_token_secret", slack.appTokenSecret()),
                        password(vault, "channels.slack.bot_token_secret", slack.botTokenSecret()));
                services.add(
                        slack.events()
                                ? Slack.events(
                                        filled,
                                        password(vault, "channels.slack.signing_secret", slack.signingSecret())
                                                .getBytes(StandardCharsets.UTF_8))
                                : new RenewableChannel(() -> Slack.channel(filled)));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("cordon.yaml: channels.slack." + e.getMessage());
            }
        }
        ChannelSettings.Discord discord = settings.discord();
        if (discord != null) {
            if (discord.mentionOnly()) {
                mentionOnly.add(Discord.NAME);
            }
            String field = "channels.discord.token_secret";
            String token = password(vault, field, discord.tokenSecret());
            DiscordSettings filled = checked(
                    field,
                    discord.tokenSecret(),
                    () -> new DiscordSettings(
                            discord.settings().api(),
                            token,
                            data.resolve("channels").resolve("discord-session")));
            services.add(new RenewableChannel(() -> Discord.channel(filled)));
        }
        ChannelSettings.GitHub github = settings.github();
        if (github != null) {
            GitHubSettings s = github.settings();
            String field = "channels.github.webhook_secret";
            byte[] secret = password(vault, field, github.webhookSecret()).getBytes(StandardCharsets.UTF_8);
            String token = password(vault, "channels.github.token_secret", github.tokenSecret());
            services.add(GitHub.channel(checked(
                    field, github.webhookSecret(), () -> new GitHubSettings(s.apiUrl(), s.login(), secret, token))));
        }
        ChannelSettings.WhatsApp whatsapp = settings.whatsapp();
        if (whatsapp != null) {
            WhatsAppSettings s = whatsapp.settings();
            String token = password(vault, "channels.whatsapp.token_secret", whatsapp.tokenSecret());
            String appField = "channels.whatsapp.app_secret";
            byte[] appSecret = password(vault, appField, whatsapp.appSecret()).getBytes(StandardCharsets.UTF_8);
            String verifyField = "channels.whatsapp.verify_token_secret";
            String verify = password(vault, verifyField, whatsapp.verifyTokenSecret());
            // One secret at a time, so that a wrong value is reported by the name of the secret that holds it.
            checked(
                    appField,
                    whatsapp.appSecret(),
                    () -> new WhatsAppSettings(s.apiUrl(), s.phoneNumberId(), null, appSecret, null));
            services.add(WhatsApp.channel(checked(
                    verifyField,
                    whatsapp.verifyTokenSecret(),
                    () -> new WhatsAppSettings(s.apiUrl(), s.phoneNumberId(), token, appSecret, verify))));
        }
        ChannelSettings.Webhook webhook = settings.webhook();
        List<ChannelSettings.WebhookEndpoint> endpoints = List.of();
        if (webhook != null) {
            endpoints = webhook.endpoints();
            List<WebhookSettings.Endpoint> filled = new ArrayList<>();
            for (ChannelSettings.WebhookEndpoint e : endpoints) {
                String field = "channels.webhook.endpoints." + e.name() + ".secret";
                byte[] secret = password(vault, field, e.secret()).getBytes(StandardCharsets.UTF_8);
                filled.add(
                        checked(field, e.secret(), () -> new WebhookSettings.Endpoint(e.name(), secret, e.replyUrl())));
            }
            services.add(Webhook.channel(new WebhookSettings(filled, webhook.replayWindow())));
        }
        return new Channels(List.copyOf(services), Set.copyOf(mentionOnly), endpoints);
    }

    /**
     * Wires each webhook endpoint's chat ({@code webhook:NAME}) to the agent cordon.yaml names, and
     * makes the endpoint a member of that agent: whoever holds its secret speaks as {@code
     * webhook:NAME}, and the signature is what lets them in. The grant is made (and audited, by the
     * owner who wrote the file) once; a restart finds it.
     *
     * @throws ConfigException if an endpoint names an agent that does not exist
     */
    void wireEndpoints(Store store, Access access) {
        for (ChannelSettings.WebhookEndpoint e : endpoints) {
            AgentName name;
            try {
                name = new AgentName(e.agent());
            } catch (IllegalArgumentException ex) {
                throw new ConfigException(
                        "cordon.yaml: channels.webhook.endpoints." + e.name() + ".agent: " + ex.getMessage());
            }
            Agent agent = store.agentByName(name)
                    .orElseThrow(() -> new ConfigException(
                            "cordon.yaml: channels.webhook.endpoints." + e.name() + ".agent: there is no agent named '"
                                    + e.agent() + "' (create agents/" + e.agent() + "/)"));
            store.wire(store.ensureChat(Webhook.NAME, e.name()).id(), agent.id());
            UserId sender = new UserId(Webhook.NAME, e.name());
            if (access.role(sender, name).isEmpty()) {
                access.grant(UserId.TERMINAL_OWNER, sender, Role.MEMBER, name);
            }
        }
    }

    /** The adapters the platforms call over HTTP, for the hook listener; empty if none is configured. */
    List<HookChannel> hooks() {
        return services.stream()
                .filter(HookChannel.class::isInstance)
                .map(HookChannel.class::cast)
                .toList();
    }

    private static String password(Vault vault, String field, String name) {
        if (name == null) {
            return null;
        }
        byte[] value = vault.reveal(name)
                .orElseThrow(() -> new ConfigException("cordon.yaml: " + field + " names secret " + name
                        + ", which is not in the vault; store it with: cordon secret set " + name + " --host-only"));
        return new String(value, StandardCharsets.UTF_8);
    }

    /** Settings made with a secret's value; a value of the wrong shape is reported by the secret's name, never shown. */
    private static <T> T checked(String field, String secret, java.util.function.Supplier<T> settings) {
        try {
            return settings.get();
        } catch (IllegalArgumentException e) {
            throw new ConfigException("cordon.yaml: " + field + ": secret " + secret + ": " + e.getMessage()
                    + "; store the right value with: cordon secret set " + secret + " --host-only");
        }
    }

    /** {@code first} (the terminal) and every configured adapter, for delivery. */
    List<ChannelAdapter> adapters(ChannelAdapter first) {
        List<ChannelAdapter> all = new ArrayList<>();
        all.add(first);
        all.addAll(services);
        return all;
    }

    /**
     * Whether the chat engages on mention only: chats of a channel with {@code engage: mention}
     * (the default). Private messages (IRC queries, Telegram private chats, Matrix rooms of two,
     * Slack and Discord DMs) are always addressed to the bot, so the rule never drops them.
     */
    boolean mentionOnly(Chat chat) {
        return mentionOnly.contains(chat.channel());
    }

    /** Connects every adapter; each reconnects on its own from then on. */
    void start(InboundSink sink) {
        for (ChannelService s : services) {
            LOG.info("starting channel {}", s.name());
            s.start(sink);
        }
    }

    /**
     * The adapters that hold one platform connection each (pollers, sockets): with several replicas
     * each runs on one replica at a time ({@link ReplicaSet}), unlike the webhook channels, which
     * every replica serves.
     */
    List<ChannelService> connections() {
        return services.stream().filter(s -> !(s instanceof HookChannel)).toList();
    }

    /** Starts the webhook channels only (several replicas: the connections follow their leases). */
    void startHooks(InboundSink sink) {
        for (HookChannel h : hooks()) {
            LOG.info("starting channel {}", h.name());
            h.start(sink);
        }
    }

    @Override
    public void close() {
        services.forEach(ChannelService::close);
    }
}
