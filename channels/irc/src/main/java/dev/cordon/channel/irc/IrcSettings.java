package dev.cordon.channel.irc;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where and as whom the IRC adapter connects.
 *
 * @param tls connect with TLS, verifying the server's certificate and host name
 * @param channels the channels to join ({@code #name}); private messages to the nick are accepted too
 * @param password the server password ({@code PASS}), or null; comes from the vault, never the config
 */
public record IrcSettings(String host, int port, boolean tls, String nick, List<String> channels, String password) {
    private static final Pattern NICK = Pattern.compile("[A-Za-z\\[\\]\\\\`_^{|}][A-Za-z0-9\\[\\]\\\\`_^{|}-]{0,29}");
    private static final Pattern CHANNEL = Pattern.compile("[#&][^\\s,\\x07:]{1,49}");

    /** @throws IllegalArgumentException naming the field that is wrong and what it should be */
    public IrcSettings {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("server: a host name is required");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port: must be from 1 to 65535, got " + port);
        }
        if (nick == null || !NICK.matcher(nick).matches()) {
            throw new IllegalArgumentException("nick: '" + nick
                    + "' is not an IRC nick (a letter or one of []\\`_^{|}, then up to 29 of those, digits or -)");
        }
        channels = channels.stream().map(c -> c.toLowerCase(Locale.ROOT)).toList();
        for (String c : channels) {
            if (!CHANNEL.matcher(c).matches()) {
                throw new IllegalArgumentException("channels: '" + c + "' is not an IRC channel name (#name)");
            }
        }
    }

    /** Without the password: settings end up in logs and messages. */
    @Override
    public String toString() {
        return "IrcSettings[" + address() + (tls ? " tls" : "") + " as " + nick + " in " + channels
                + (password == null ? "" : ", password set") + "]";
    }

    /** {@code host:port}, for messages. */
    String address() {
        return host + ":" + port;
    }
}
