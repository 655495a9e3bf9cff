package dev.cordon.channel.github;

import dev.cordon.core.Domain.NewInbound;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Reads one webhook payload as a message for the host, or says why it is not one. Chats are
 * repositories ({@code OWNER/REPO}), senders GitHub's numeric user ids (a login can be renamed and
 * taken by someone else; an id cannot), message ids {@code NUMBER/KIND-ID} (the issue or pull
 * request, then the comment or issue id): unique in the repository, the host's dedup key, and the
 * way a reply finds the issue it belongs on ({@link #issueOf}).
 */
final class GitHubEvent {
    private static final Pattern MESSAGE_ID = Pattern.compile("(?<![0-9])([0-9]{1,10})/[a-z-]+-[0-9]{1,20}$");

    /** What the payload is. */
    sealed interface Read {
        record Message(NewInbound message) implements Read {}

        /** Not for the agent; {@code why} says which rule. */
        record Ignored(String why) implements Read {}
    }

    private GitHubEvent() {}

    static Read read(String event, JsonNode payload, String login) {
        String action = payload.path("action").asString("");
        JsonNode thing;
        JsonNode number;
        String kind;
        String text;
        switch (event) {
            case "issue_comment" -> {
                thing = payload.path("comment");
                number = payload.path("issue").path("number");
                kind = "comment";
                text = thing.path("body").asString("");
                if (!action.equals("created")) {
                    return new Read.Ignored("issue_comment " + action + ": only new comments are read");
                }
            }
            case "pull_request_review_comment" -> {
                thing = payload.path("comment");
                number = payload.path("pull_request").path("number");
                kind = "review-comment";
                text = thing.path("body").asString("");
                if (!action.equals("created")) {
                    return new Read.Ignored("pull_request_review_comment " + action + ": only new comments are read");
                }
            }
            case "issues" -> {
                thing = payload.path("issue");
                number = thing.path("number");
                kind = "issue";
                text = thing.path("title").asString("") + "\n\n"
                        + thing.path("body").asString("");
                if (!action.equals("opened")) {
                    return new Read.Ignored("issues " + action + ": only newly opened issues are read");
                }
            }
            default -> {
                return new Read.Ignored("event " + event + " is not read (issue_comment, issues and"
                        + " pull_request_review_comment are)");
            }
        }
        JsonNode author = thing.path("user");
        String repo = payload.path("repository").path("full_name").asString("");
        if (!number.isIntegralNumber() || !thing.path("id").isIntegralNumber() || repo.isEmpty() || !author.has("id")) {
            return new Read.Ignored(event + " without repository, number, id or author");
        }
        if (author.path("type").asString("").equals("Bot")
                || author.path("login").asString("").equalsIgnoreCase(login)) {
            return new Read.Ignored("written by a bot (or by this account itself)");
        }
        Matcher mention = Pattern.compile(
                        "(?<![A-Za-z0-9-])@" + Pattern.quote(login) + "(?![A-Za-z0-9-])", Pattern.CASE_INSENSITIVE)
                .matcher(text);
        if (!mention.find()) {
            return new Read.Ignored("does not mention @" + login);
        }
        String clean = mention.replaceAll("")
                .replaceAll("[ \t]{2,}", " ")
                .replaceAll("(?m)^[ \t]+|[ \t]+$", "")
                .strip()
                .replaceFirst("^[,:]\\s*", "");
        return new Read.Message(new NewInbound(
                GitHub.NAME,
                repo.toLowerCase(Locale.ROOT),
                number.asLong() + "/" + kind + "-" + thing.path("id").asLong(),
                author.path("id").asString(),
                clean,
                true,
                number.asString(),
                null));
    }

    /**
     * The issue or pull request number of the message id ({@code NUMBER/KIND-ID}) that {@code text}
     * ends with, or empty: a reply's id of the message it answers, or the idempotency key of the
     * host's answer to a pairing code, which ends with the code's message id.
     */
    static Optional<Long> issueOf(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = MESSAGE_ID.matcher(text);
        return m.find() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
    }
}
