package dev.cordon.server;

import dev.cordon.channel.email.Email;
import dev.cordon.channel.email.EmailSettings;
import dev.cordon.channel.irc.Irc;
import dev.cordon.channel.irc.IrcSettings;
import dev.cordon.channel.slack.Slack;
import dev.cordon.channel.slack.SlackSettings;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.channel.ChannelAdapter;
import dev.cordon.core.channel.ChannelService;
import dev.cordon.core.channel.InboundSink;
import dev.cordon.egress.vault.Vault;
import java.nio.charset.StandardCharsets;
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
    /** The channels whose chats engage on mention ({@code engage: mention}). */
    private final Set<String> mentionOnly;

    private Channels(List<ChannelService> services, Set<String> mentionOnly) {
        this.services = services;
        this.mentionOnly = mentionOnly;
    }

    /**
     * The adapters {@code settings} enables, not yet started.
     *
     * @throws ConfigException if a named secret is not in the vault
     */
    static Channels of(ChannelSettings settings, Vault vault) {
        List<ChannelService> services = new ArrayList<>();
        ChannelSettings.Irc irc = settings.irc();
        if (irc != null) {
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
        ChannelSettings.Slack slack = settings.slack();
        if (slack != null) {
            try {
                services.add(Slack.channel(new SlackSettings(
                        slack.settings().api(),
                        password(vault, "channels.slack.app_token_secret", slack.appTokenSecret()),
                        password(vault, "channels.slack.bot_token_secret", slack.botTokenSecret()))));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("cordon.yaml: channels.slack." + e.getMessage());
            }
        }
        Set<String> mentionOnly = new HashSet<>();
        if (irc != null && irc.mentionOnly()) {
            mentionOnly.add(Irc.NAME);
        }
        if (slack != null && slack.mentionOnly()) {
            mentionOnly.add(Slack.NAME);
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

    /** {@code first} (the terminal) and every configured adapter, for delivery. */
    List<ChannelAdapter> adapters(ChannelAdapter first) {
        List<ChannelAdapter> all = new ArrayList<>();
        all.add(first);
        all.addAll(services);
        return all;
    }

    /**
     * Whether the chat engages on mention only: IRC and Slack chats with {@code engage: mention} (the
     * default). Private messages are always addressed to the bot, so the rule never drops them.
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
