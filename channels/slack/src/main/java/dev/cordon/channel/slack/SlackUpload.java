package dev.cordon.channel.slack;

import dev.cordon.core.channel.Attachment;
import dev.cordon.core.channel.DeliveryResult;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A file to a Slack channel, in Slack's three steps: {@code files.getUploadURLExternal} (name and
 * length; answers an upload URL and a file id), the bytes POSTed to that URL, then {@code
 * files.completeUploadExternal} (shares the file in the channel or thread, with the text as its
 * comment). A failure before the last step leaves only an unshared upload, which Slack discards; a
 * retry starts over. Thread-safe.
 */
final class SlackUpload {
    private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(2);
    private final SlackApi api;
    private final HttpClient http;

    SlackUpload(SlackApi api, HttpClient http) {
        this.api = api;
        this.http = http;
    }

    /** Uploads and shares {@code file}; the platform id of the delivery is the file's id. Blocks. */
    DeliveryResult send(String channel, String threadTs, String comment, Attachment file) {
        SlackApi.Answer url = api.callForm(
                "files.getUploadURLExternal", Map.of("filename", file.name(), "length", Long.toString(file.size())));
        if (!(url instanceof SlackApi.Answer.Ok ok)) {
            return failed(channel, url);
        }
        String fileId = ok.body().path("file_id").asString();
        URI uploadUrl = URI.create(ok.body().path("upload_url").asString());
        DeliveryResult uploaded = upload(uploadUrl, file);
        if (uploaded != null) {
            return uploaded;
        }
        Map<String, String> share = new LinkedHashMap<>();
        share.put(
                "files",
                SlackApi.JSON
                        .createArrayNode()
                        .add(SlackApi.JSON.createObjectNode().put("id", fileId).put("title", file.name()))
                        .toString());
        share.put("channel_id", channel);
        if (!comment.isEmpty()) {
            share.put("initial_comment", comment);
        }
        if (threadTs != null) {
            share.put("thread_ts", threadTs);
        }
        SlackApi.Answer done = api.callForm("files.completeUploadExternal", share);
        return done instanceof SlackApi.Answer.Ok ? new DeliveryResult.Delivered(fileId) : failed(channel, done);
    }

    /** POSTs the bytes; null when Slack took them, else what to do. */
    private DeliveryResult upload(URI url, Attachment file) {
        HttpResponse<String> response;
        try {
            response = http.send(
                    HttpRequest.newBuilder(url)
                            .timeout(UPLOAD_TIMEOUT)
                            .header("Content-Type", file.mediaType())
                            .POST(HttpRequest.BodyPublishers.ofByteArray(file.readAllBytes()))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new DeliveryResult.RetryLater(SlackApi.DEFAULT_RETRY, "Slack file upload failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DeliveryResult.RetryLater(SlackApi.DEFAULT_RETRY, "interrupted");
        }
        int status = response.statusCode();
        if (status == 200) {
            return null;
        }
        String said = "Slack's upload URL answered HTTP " + status;
        if (status == 429 || status >= 500) {
            return new DeliveryResult.RetryLater(
                    dev.cordon.core.channel.HttpDelivery.retryAfter(response).orElse(SlackApi.DEFAULT_RETRY), said);
        }
        return new DeliveryResult.Failed(said + (status == 413 ? " (the file is too large for Slack)" : ""));
    }

    private static DeliveryResult failed(String channel, SlackApi.Answer answer) {
        return switch (answer) {
            case SlackApi.Answer.Ok ok -> throw new IllegalArgumentException("not a failure");
            case SlackApi.Answer.Retry r -> new DeliveryResult.RetryLater(r.after(), r.reason());
            case SlackApi.Answer.Refused r ->
                new DeliveryResult.Failed("to Slack channel " + channel + ": " + r.reason());
        };
    }
}
