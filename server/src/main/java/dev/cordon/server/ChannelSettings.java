package dev.cordon.server;

import dev.cordon.channel.discord.DiscordSettings;
import dev.cordon.channel.email.EmailSettings;
import dev.cordon.channel.github.GitHubSettings;
import dev.cordon.channel.irc.IrcSettings;
import dev.cordon.channel.matrix.MatrixSettings;
import dev.cordon.channel.slack.SlackSettings;
import dev.cordon.channel.telegram.TelegramSettings;
import dev.cordon.channel.webhook.WebhookSettings;
import dev.cordon.channel.whatsapp.WhatsAppSettings;
import dev.cordon.core.sandbox.SandboxException;
import dev.cordon.egress.vault.Vault;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * The {@code channels:} block of {@code cordon.yaml}: which chat platforms the daemon connects to
 * (docs/configuration.md, docs/channels/). Passwords are not in the file: it names a vault secret
 * ({@code password_secret}), set with {@code cordon secret set NAME}. Errors name the file, the
 * line and column, the field and what is wrong.
 *
 * @param irc the IRC block, or null if IRC is not enabled
 * @param email the email block, or null if email is not enabled
 * @param telegram the Telegram block, or null if Telegram is not enabled
 * @param matrix the Matrix block, or null if Matrix is not enabled
 * @param slack the Slack block, or null if Slack is not enabled
 * @param webhook the signed webhook endpoints, or null if there are none
 * @param github the GitHub block, or null if GitHub is not enabled
 * @param whatsapp the WhatsApp block, or null if WhatsApp is not enabled
 * @param discord the Discord block, or null if Discord is not enabled
 */
record ChannelSettings(
        Irc irc,
        Email email,
        Telegram telegram,
        Matrix matrix,
        Slack slack,
        Webhook webhook,
        GitHub github,
        WhatsApp whatsapp,
        Discord discord) {
    static final ChannelSettings NONE = new ChannelSettings(null, null, null, null, null, null, null, null, null);

    /** WhatsApp as configured; the token and both secrets are filled in from the vault when the daemon starts. */
    record WhatsApp(WhatsAppSettings settings, String tokenSecret, String appSecret, String verifyTokenSecret) {}

    private static final Set<String> WHATSAPP_KEYS =
            Set.of("phone_number_id", "token_secret", "app_secret", "verify_token_secret", "api_url");

    /** GitHub as configured; the webhook secret and the token are filled in from the vault when the daemon starts. */
    record GitHub(GitHubSettings settings, String webhookSecret, String tokenSecret) {}

    private static final Set<String> GITHUB_KEYS = Set.of("login", "webhook_secret", "token_secret", "api_url");

    /**
     * The signed webhook endpoints as configured; each secret is filled in from the vault when the
     * daemon starts, and each endpoint's chat ({@code webhook:NAME}) is wired to its agent.
     */
    record Webhook(List<WebhookEndpoint> endpoints, Duration replayWindow) {}

    /** One endpoint: its agent, the name of its vault secret, and where replies go (or null). */
    record WebhookEndpoint(String name, String agent, String secret, URI replyUrl) {}

    private static final Set<String> WEBHOOK_KEYS = Set.of("endpoints", "replay_window_seconds");
    private static final Set<String> ENDPOINT_KEYS = Set.of("agent", "secret", "reply_url");

    /** IRC as configured; the password is filled in from the vault when the daemon starts. */
    record Irc(IrcSettings settings, String passwordSecret, boolean mentionOnly) {}

    /** Email as configured; the password is filled in from the vault when the daemon starts. */
    record Email(EmailSettings settings, String passwordSecret) {}

    /**
     * Telegram as configured; the bot token is filled in from the vault when the daemon starts.
     *
     * @param webhookUrl where Telegram POSTs updates ({@code mode: webhook}), or null for long polling
     */
    record Telegram(TelegramSettings settings, String tokenSecret, boolean mentionOnly, URI webhookUrl) {}

    /** Matrix as configured; the access token is filled in from the vault when the daemon starts. */
    record Matrix(MatrixSettings settings, String tokenSecret, boolean mentionOnly) {}

    private static final Set<String> TELEGRAM_KEYS =
            Set.of("token_secret", "api_url", "poll_seconds", "engage", "mode", "webhook_url");
    private static final Set<String> MATRIX_KEYS =
            Set.of("homeserver", "token_secret", "poll_seconds", "engage", "join_on_invite");

    /**
     * Slack as configured; the tokens and the signing secret are filled in from the vault when the
     * daemon starts.
     *
     * @param appTokenSecret Socket Mode's app-level token ({@code mode: socket}), else null
     * @param signingSecret the Events API's signing secret ({@code mode: events}), else null
     */
    record Slack(
            SlackSettings settings,
            String appTokenSecret,
            String botTokenSecret,
            boolean mentionOnly,
            String signingSecret) {
        /** Whether events come over HTTP (the Events API) rather than Socket Mode. */
        boolean events() {
            return signingSecret != null;
        }
    }

    private static final Set<String> SLACK_KEYS =
            Set.of("api_url", "app_token_secret", "bot_token_secret", "engage", "mode", "signing_secret");

    /** Discord as configured; the bot token is filled in from the vault when the daemon starts. */
    record Discord(DiscordSettings settings, String tokenSecret, boolean mentionOnly) {}

    private static final Set<String> DISCORD_KEYS = Set.of("api_url", "token_secret", "engage");

    private static final Set<String> IRC_KEYS =
            Set.of("server", "port", "tls", "nick", "channels", "password_secret", "engage");
    private static final Set<String> EMAIL_KEYS = Set.of(
            "address",
            "username",
            "password_secret",
            "imap_host",
            "imap_port",
            "imap_security",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "folder",
            "idle",
            "poll_seconds");

    /** Reads the block from {@code file} ({@code cordon.yaml}); {@link #NONE} if the file or the block is missing. */
    static ChannelSettings load(Path file) {
        if (!Files.exists(file)) {
            return NONE;
        }
        try {
            return parse(file.toString(), Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
    }

    /** @throws ConfigException naming {@code file:line:column}, the field and the reason */
    static ChannelSettings parse(String file, String text) {
        try {
            PolicyYaml yaml = PolicyYaml.parse(file, text);
            JsonNode channels = yaml.root() == null ? null : yaml.root().get("channels");
            if (channels == null || channels.isNull()) {
                return NONE;
            }
            Fields f = new Fields(yaml);
            f.onlyKeys(
                    "channels",
                    channels,
                    Set.of("irc", "email", "telegram", "matrix", "slack", "webhook", "github", "whatsapp", "discord"));
            return new ChannelSettings(
                    channels.has("irc") ? irc(f, channels.get("irc")) : null,
                    channels.has("email") ? email(f, channels.get("email")) : null,
                    channels.has("telegram") ? telegram(f, channels.get("telegram")) : null,
                    channels.has("matrix") ? matrix(f, channels.get("matrix")) : null,
                    channels.has("slack") ? slack(f, channels.get("slack")) : null,
                    channels.has("webhook") ? webhook(f, channels.get("webhook")) : null,
                    channels.has("github") ? github(f, channels.get("github")) : null,
                    channels.has("whatsapp") ? whatsapp(f, channels.get("whatsapp")) : null,
                    channels.has("discord") ? discord(f, channels.get("discord")) : null);
        } catch (SandboxException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static Slack slack(Fields f, JsonNode n) {
        String at = "channels.slack";
        f.onlyKeys(at, n, SLACK_KEYS);
        String mode = f.oneOf(at + ".mode", n.get("mode"), "socket", "events");
        boolean events = mode.equals("events");
        String api = f.text(at + ".api_url", n.get("api_url"), false, SlackSettings.SLACK_API.toString());
        String appToken = f.secret(at + ".app_token_secret", n.get("app_token_secret"));
        String botToken =
                f.required(at + ".bot_token_secret", f.secret(at + ".bot_token_secret", n.get("bot_token_secret")));
        String signing = f.secret(at + ".signing_secret", n.get("signing_secret"));
        if (events) {
            f.required(at + ".signing_secret", signing);
            f.unused(at + ".app_token_secret", n, "mode: socket (the app-level token opens Socket Mode connections)");
        } else {
            f.required(at + ".app_token_secret", appToken);
            f.unused(at + ".signing_secret", n, "mode: events (the signing secret checks Events API requests)");
        }
        try {
            return new Slack(
                    new SlackSettings(URI.create(api), null, null), appToken, botToken, f.mentionOnly(at, n), signing);
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(at, e.getMessage());
        }
    }

    private static WhatsApp whatsapp(Fields f, JsonNode n) {
        String at = "channels.whatsapp";
        f.onlyKeys(at, n, WHATSAPP_KEYS);
        JsonNode id = n.get("phone_number_id");
        if (id == null || !(id.isString() || id.isIntegralNumber())) {
            throw f.yaml.error(
                    at + ".phone_number_id", "is required: the phone number's id from WhatsApp Manager, in quotes");
        }
        String token = f.required(at + ".token_secret", f.secret(at + ".token_secret", n.get("token_secret")));
        String appSecret = f.required(at + ".app_secret", f.secret(at + ".app_secret", n.get("app_secret")));
        String verify = f.required(
                at + ".verify_token_secret", f.secret(at + ".verify_token_secret", n.get("verify_token_secret")));
        URI api = f.url(at + ".api_url", n.get("api_url"), WhatsAppSettings.DEFAULT_API);
        try {
            return new WhatsApp(
                    new WhatsAppSettings(api, id.asString().strip(), null, null, null), token, appSecret, verify);
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(at, e.getMessage());
        }
    }

    private static Discord discord(Fields f, JsonNode n) {
        String at = "channels.discord";
        f.onlyKeys(at, n, DISCORD_KEYS);
        boolean mentionOnly = f.mentionOnly(at, n);
        String secret = f.required(at + ".token_secret", f.secret(at + ".token_secret", n.get("token_secret")));
        String api = f.text(at + ".api_url", n.get("api_url"), false, DiscordSettings.DISCORD_API.toString());
        try {
            return new Discord(new DiscordSettings(URI.create(api), null, null), secret, mentionOnly);
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(at, e.getMessage());
        }
    }

    private static GitHub github(Fields f, JsonNode n) {
        String at = "channels.github";
        f.onlyKeys(at, n, GITHUB_KEYS);
        String login = f.text(at + ".login", n.get("login"), true, null);
        String webhookSecret =
                f.required(at + ".webhook_secret", f.secret(at + ".webhook_secret", n.get("webhook_secret")));
        String token = f.required(at + ".token_secret", f.secret(at + ".token_secret", n.get("token_secret")));
        URI api = f.url(at + ".api_url", n.get("api_url"), GitHubSettings.DEFAULT_API);
        try {
            return new GitHub(new GitHubSettings(api, login, null, null), webhookSecret, token);
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(at, e.getMessage());
        }
    }

    private static Webhook webhook(Fields f, JsonNode n) {
        String at = "channels.webhook";
        f.onlyKeys(at, n, WEBHOOK_KEYS);
        JsonNode endpoints = n.get("endpoints");
        if (endpoints == null || !endpoints.isObject() || endpoints.isEmpty()) {
            throw f.yaml.error(
                    at + ".endpoints",
                    "must name at least one endpoint, e.g. ci: {agent: main, secret: CI_HOOK_SECRET}");
        }
        List<WebhookEndpoint> out = new ArrayList<>();
        for (Iterator<String> it = endpoints.propertyNames().iterator(); it.hasNext(); ) {
            String name = it.next();
            String e = at + ".endpoints." + name;
            JsonNode node = endpoints.get(name);
            f.onlyKeys(e, node, ENDPOINT_KEYS);
            if (!WebhookSettings.NAME.matcher(name).matches()) {
                throw f.yaml.error(
                        e, "an endpoint name must be 1-63 of a-z, 0-9, _ and -, starting with a letter or digit");
            }
            String agent = f.text(e + ".agent", node.get("agent"), true, null);
            String secret = f.required(e + ".secret", f.secret(e + ".secret", node.get("secret")));
            JsonNode reply = node.get("reply_url");
            URI replyUrl = reply == null || reply.isNull() ? null : f.url(e + ".reply_url", reply, null);
            try {
                new WebhookSettings.Endpoint(name, null, replyUrl);
            } catch (IllegalArgumentException ex) {
                throw f.yaml.error(e, ex.getMessage());
            }
            out.add(new WebhookEndpoint(name, agent, secret, replyUrl));
        }
        int window = f.integer(at + ".replay_window_seconds", n.get("replay_window_seconds"), 300, 1, 3600);
        return new Webhook(List.copyOf(out), Duration.ofSeconds(window));
    }

    private static Irc irc(Fields f, JsonNode n) {
        String at = "channels.irc";
        f.onlyKeys(at, n, IRC_KEYS);
        boolean tls = f.bool(at + ".tls", n.get("tls"), true);
        boolean mentionOnly = f.mentionOnly(at, n);
        try {
            IrcSettings settings = new IrcSettings(
                    f.text(at + ".server", n.get("server"), true, null),
                    f.integer(at + ".port", n.get("port"), tls ? 6697 : 6667, 1, 65_535),
                    tls,
                    f.text(at + ".nick", n.get("nick"), true, null),
                    f.strings(at + ".channels", n.get("channels")),
                    null);
            return new Irc(settings, f.secret(at + ".password_secret", n.get("password_secret")), mentionOnly);
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(at, e.getMessage());
        }
    }

    private static Email email(Fields f, JsonNode n) {
        String at = "channels.email";
        f.onlyKeys(at, n, EMAIL_KEYS);
        try {
            EmailSettings.Security imapSecurity = security(f, at + ".imap_security", n.get("imap_security"), "tls");
            EmailSettings.Security smtpSecurity =
                    security(f, at + ".smtp_security", n.get("smtp_security"), "starttls");
            EmailSettings settings = new EmailSettings(
                    new EmailSettings.Server(
                            f.text(at + ".imap_host", n.get("imap_host"), true, null),
                            f.integer(
                                    at + ".imap_port",
                                    n.get("imap_port"),
                                    imapSecurity == EmailSettings.Security.TLS ? 993 : 143,
                                    1,
                                    65_535),
                            imapSecurity),
                    new EmailSettings.Server(
                            f.text(at + ".smtp_host", n.get("smtp_host"), true, null),
                            f.integer(
                                    at + ".smtp_port",
                                    n.get("smtp_port"),
                                    smtpSecurity == EmailSettings.Security.TLS ? 465 : 587,
                                    1,
                                    65_535),
                            smtpSecurity),
                    f.text(at + ".address", n.get("address"), true, null),
                    f.text(at + ".username", n.get("username"), false, null),
                    null,
                    f.text(at + ".folder", n.get("folder"), false, "INBOX"),
                    f.bool(at + ".idle", n.get("idle"), true),
                    Duration.ofSeconds(f.integer(at + ".poll_seconds", n.get("poll_seconds"), 60, 1, 86_400)));
            return new Email(settings, f.secret(at + ".password_secret", n.get("password_secret")));
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(at, e.getMessage());
        }
    }

    private static Telegram telegram(Fields f, JsonNode n) {
        String at = "channels.telegram";
        f.onlyKeys(at, n, TELEGRAM_KEYS);
        boolean mentionOnly = f.mentionOnly(at, n);
        String secret = f.required(at + ".token_secret", f.secret(at + ".token_secret", n.get("token_secret")));
        URI api = f.url(at + ".api_url", n.get("api_url"), TelegramSettings.DEFAULT_API);
        boolean webhook =
                f.oneOf(at + ".mode", n.get("mode"), "polling", "webhook").equals("webhook");
        URI webhookUrl = null;
        if (webhook) {
            f.unused(at + ".poll_seconds", n, "mode: webhook (Telegram calls the daemon; nothing polls)");
            webhookUrl = f.url(at + ".webhook_url", n.get("webhook_url"), null);
            boolean loopback = "127.0.0.1".equals(webhookUrl.getHost()) || "localhost".equals(webhookUrl.getHost());
            if (!webhookUrl.getScheme().equals("https") && !loopback) {
                throw f.yaml.error(
                        at + ".webhook_url",
                        "must be https: Telegram calls only https webhooks (ports 443, 80, 88 or 8443), got '"
                                + webhookUrl + "'");
            }
        } else {
            f.unused(at + ".webhook_url", n, "mode: webhook");
        }
        try {
            TelegramSettings settings = new TelegramSettings(
                    api, null, Duration.ofSeconds(f.integer(at + ".poll_seconds", n.get("poll_seconds"), 50, 0, 50)));
            return new Telegram(settings, secret, mentionOnly, webhookUrl);
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(at, e.getMessage());
        }
    }

    private static Matrix matrix(Fields f, JsonNode n) {
        String at = "channels.matrix";
        f.onlyKeys(at, n, MATRIX_KEYS);
        boolean mentionOnly = f.mentionOnly(at, n);
        String secret = f.required(at + ".token_secret", f.secret(at + ".token_secret", n.get("token_secret")));
        URI homeserver = f.url(at + ".homeserver", n.get("homeserver"), null);
        try {
            MatrixSettings settings = new MatrixSettings(
                    homeserver,
                    null,
                    Duration.ofSeconds(f.integer(at + ".poll_seconds", n.get("poll_seconds"), 30, 0, 120)),
                    f.bool(at + ".join_on_invite", n.get("join_on_invite"), true),
                    null);
            return new Matrix(settings, secret, mentionOnly);
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(at, e.getMessage());
        }
    }

    private static EmailSettings.Security security(Fields f, String path, JsonNode n, String fallback) {
        try {
            return EmailSettings.Security.of(f.text(path, n, false, fallback));
        } catch (IllegalArgumentException e) {
            throw f.yaml.error(path, e.getMessage());
        }
    }

    /** Typed reads of one field each; errors carry its position. */
    private record Fields(PolicyYaml yaml) {
        void onlyKeys(String path, JsonNode n, Set<String> allowed) {
            if (!n.isObject()) {
                throw yaml.error(path, "must be a mapping");
            }
            for (Iterator<String> it = n.propertyNames().iterator(); it.hasNext(); ) {
                String key = it.next();
                if (!allowed.contains(key)) {
                    throw yaml.error(
                            path + "." + key,
                            "unknown field (known: " + String.join(", ", new TreeSet<>(allowed)) + ")");
                }
            }
        }

        String text(String path, JsonNode n, boolean required, String fallback) {
            if (n == null || n.isNull()) {
                if (required) {
                    throw yaml.error(path, "is required");
                }
                return fallback;
            }
            if (!n.isString() || n.asString().isBlank()) {
                throw yaml.error(path, "must be a non-empty string");
            }
            return n.asString().strip();
        }

        int integer(String path, JsonNode n, int fallback, int min, int max) {
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
                throw yaml.error(path, "must be a whole number from " + min + " to " + max + ", got '" + n + "'");
            }
            return n.asInt();
        }

        boolean bool(String path, JsonNode n, boolean fallback) {
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isBoolean()) {
                throw yaml.error(path, "must be true or false, got '" + n + "'");
            }
            return n.asBoolean();
        }

        List<String> strings(String path, JsonNode n) {
            if (n == null || n.isNull()) {
                return List.of();
            }
            if (!n.isArray()) {
                throw yaml.error(path, "must be a list, e.g. [\"#cordon\"]");
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                out.add(text(path + "[" + i + "]", n.get(i), true, null));
            }
            return out;
        }

        /** {@code engage:} mention (the default) or always; true for mention. */
        boolean mentionOnly(String at, JsonNode n) {
            String engage = text(at + ".engage", n.get("engage"), false, "mention");
            if (!engage.equals("mention") && !engage.equals("always")) {
                throw yaml.error(at + ".engage", "must be mention or always, got '" + engage + "'");
            }
            return engage.equals("mention");
        }

        /** One of {@code allowed} (the first when absent). */
        String oneOf(String path, JsonNode n, String... allowed) {
            String value = text(path, n, false, allowed[0]);
            if (!List.of(allowed).contains(value)) {
                throw yaml.error(path, "must be " + String.join(" or ", allowed) + ", got '" + value + "'");
            }
            return value;
        }

        /** Refuses {@code path} (a key of {@code n}) as meaningless in the mode chosen. */
        void unused(String path, JsonNode n, String onlyWith) {
            if (n.has(path.substring(path.lastIndexOf('.') + 1))) {
                throw yaml.error(path, "is used only with " + onlyWith + "; remove it or change mode");
            }
        }

        String required(String path, String value) {
            if (value == null) {
                throw yaml.error(path, "is required: the name of a vault secret (cordon secret set NAME --host-only)");
            }
            return value;
        }

        /** An absolute http(s) URL, or {@code fallback} if absent (null: required). */
        URI url(String path, JsonNode n, URI fallback) {
            String text = text(path, n, fallback == null, null);
            if (text == null) {
                return fallback;
            }
            try {
                URI uri = new URI(text);
                if (uri.getHost() == null
                        || !(uri.getScheme().equals("https") || uri.getScheme().equals("http"))) {
                    throw yaml.error(path, "must be an http(s) URL such as https://example.org, got '" + text + "'");
                }
                return uri;
            } catch (java.net.URISyntaxException e) {
                throw yaml.error(path, "is not a URL: " + e.getMessage());
            }
        }

        /** A vault secret's name, or null. */
        String secret(String path, JsonNode n) {
            String name = text(path, n, false, null);
            if (name != null && !Vault.NAME.matcher(name).matches()) {
                throw yaml.error(
                        path,
                        "'" + name + "' is not a secret name (upper case, digits and _, as set with"
                                + " cordon secret set NAME)");
            }
            return name;
        }
    }
}
