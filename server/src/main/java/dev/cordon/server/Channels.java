package dev.cordon.server;

import dev.cordon.channel.discord.Discord;
import dev.cordon.channel.discord.DiscordSettings;
import dev.cordon.channel.email.Email;
import dev.cordon.channel.email.EmailSettings;
import dev.cordon.channel.irc.Irc;
import dev.cordon.channel.irc.IrcSettings;
import dev.cordon.channel.matrix.Matrix;
import dev.cordon.channel.matrix.MatrixSettings;
import dev.cordon.channel.slack.Slack;
import dev.cordon.channel.slack.SlackSettings;
import dev.cordon.channel.telegram.Telegram;
import dev.cordon.channel.telegram.TelegramSettings;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.channel.ChannelAdapter;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.InboundSink;
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

    private Channels(List<ChannelService> services, Set<String> mentionOnly) {
        this.services = services;
        this.mentionOnly = mentionOnly;
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
            services.add(Irc.channel(new IrcSettings(
                    s.host(),
                    s.port(),
                    s.tls(),
                    s.nick(),
                    s.channels(),
                    password(vault, "channels.irc.password_secret", irc.passwordSecret()))));
        }
        ChannelSettings.Email email = settings.email();
        if (email != null) {
            EmailSettings s = email.settings();
            services.add(Email.channel(new EmailSettings(
                    s.imap(),
                    s.smtp(),
                    s.address(),
                    s.username(),
                    password(vault, "channels.email.password_secret", email.passwordSecret()),
                    s.folder(),
                    s.idle(),
                    s.poll())));
        }
        ChannelSettings.Telegram telegram = settings.telegram();
        if (telegram != null) {
            if (telegram.mentionOnly()) {
                mentionOnly.add(Telegram.NAME);
            }
            TelegramSettings s = telegram.settings();
            String field = "channels.telegram.token_secret";
            String token = password(vault, field, telegram.tokenSecret());
            services.add(Telegram.channel(checked(
                    field, telegram.tokenSecret(), () -> new TelegramSettings(s.apiUrl(), token, s.pollTimeout()))));
        }
        ChannelSettings.Matrix matrix = settings.matrix();
        if (matrix != null) {
            if (matrix.mentionOnly()) {
                mentionOnly.add(Matrix.NAME);
            }
            MatrixSettings s = matrix.settings();
            String field = "channels.matrix.token_secret";
            String token = password(vault, field, matrix.tokenSecret());
            services.add(Matrix.channel(checked(
                    field,
                    matrix.tokenSecret(),
                    () -> new MatrixSettings(
                            s.homeserver(),
                            token,
                            s.pollTimeout(),
                            s.joinOnInvite(),
                            data.resolve("channels").resolve("matrix-sync-token")))));
        }
        ChannelSettings.Slack slack = settings.slack();
        if (slack != null) {
            if (slack.mentionOnly()) {
                mentionOnly.add(Slack.NAME);
            }
            try {
                services.add(Slack.channel(new SlackSettings(
                        slack.settings().api(),
                        password(vault, "channels.slack.app_token_secret", slack.appTokenSecret()),
                        password(vault, "channels.slack.bot_token_secret", slack.botTokenSecret()))));
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
            services.add(Discord.channel(checked(
                    field,
                    discord.tokenSecret(),
                    () -> new DiscordSettings(
                            discord.settings().api(),
                            token,
                            data.resolve("channels").resolve("discord-session")))));
        }
        return new Channels(List.copyOf(services), Set.copyOf(mentionOnly));
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

    @Override
    public void close() {
        services.forEach(ChannelService::close);
    }
}
