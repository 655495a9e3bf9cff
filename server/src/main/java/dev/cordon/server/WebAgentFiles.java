package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Agent;
import dev.cordon.core.audit.AuditActions;
import dev.cordon.core.audit.AuditEvent;
import dev.cordon.core.audit.AuditLog;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * An agent's two text files on the dashboard (docs/dashboard.md): its instructions ({@code
 * AGENTS.md}, the owner's) and its memory ({@code workspace/MEMORY.md}, the agent's own writing).
 * Members read them; admins replace them ({@code PUT}), audited {@code agent.edit} with the sizes
 * and SHA-256 before and after, never the text.
 *
 * <p>The memory file lies in the workspace a sandbox writes, so it is hostile: it is read and
 * replaced without following a symlink (a link to a host file is replaced, never written through),
 * and a new version is written to a fresh temporary file in the same folder and renamed over the
 * old one, so a sandbox never sees half a file. Thread-safe; two admins saving at once: the last
 * rename wins, and both are audited.
 */
final class WebAgentFiles {
    /** The most either file may hold, and the most the dashboard shows. */
    static final int MAX_BYTES = 64 * 1024;

    /** Which file: its name in the API and in the audit, and where it is. */
    enum Kind {
        INSTRUCTIONS("instructions", "AGENTS.md"),
        MEMORY("memory", "workspace/" + AgentControl.MEMORY);

        final String field;
        final String file;

        Kind(String field, String file) {
            this.field = field;
            this.file = file;
        }
    }

    /** A file as shown: its text (null without one) and whether the dashboard may replace it. */
    record Shown(String text, boolean editable) {}

    private final Home home;
    private final WebRoles roles;
    private final AuditLog audit;
    private final Clock clock;

    WebAgentFiles(Path home, WebRoles roles, AuditLog audit, Clock clock) {
        this.home = new Home(home);
        this.roles = roles;
        this.audit = audit;
        this.clock = clock;
    }

    List<WebApi.Route> routes() {
        return List.of(
                new WebApi.Route(
                        "PUT",
                        WebApi.PREFIX + "/agents/{agent}/instructions",
                        (ctx, c) -> save(ctx, c, Kind.INSTRUCTIONS)),
                new WebApi.Route(
                        "PUT", WebApi.PREFIX + "/agents/{agent}/memory", (ctx, c) -> save(ctx, c, Kind.MEMORY)));
    }

    Path path(AgentName agent, Kind kind) {
        return home.agent(agent).resolve(kind.file);
    }

    /**
     * The first {@link #MAX_BYTES} of the file; a longer file is not editable here (saving it would
     * cut it). The memory file is read only if it is a regular file, never through a symlink, and a
     * link or other thing there may be replaced. {@code AGENTS.md} is the owner's: a symlink there
     * is read as the agent's prompt reads it, and left alone (edited on the host).
     */
    Shown read(AgentName agent, Kind kind) throws IOException {
        Path file = path(agent, kind);
        if (kind == Kind.INSTRUCTIONS && Files.isSymbolicLink(file)) {
            return new Shown(Files.isRegularFile(file) ? head(file, false).text() : null, false);
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return new Shown(null, kind == Kind.MEMORY || !Files.exists(file, LinkOption.NOFOLLOW_LINKS));
        }
        return head(file, true, LinkOption.NOFOLLOW_LINKS);
    }

    private static Shown head(Path file, boolean editable, LinkOption... options) throws IOException {
        try (InputStream in = Files.newInputStream(file, options)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            boolean tooLong = bytes.length > MAX_BYTES;
            return new Shown(
                    new String(bytes, 0, Math.min(bytes.length, MAX_BYTES), StandardCharsets.UTF_8),
                    editable && !tooLong);
        }
    }

    private void save(Context ctx, WebAuth.Caller caller, Kind kind) {
        Agent agent = roles.administered(ctx, caller.user());
        JsonNode body = WebJson.object(ctx.body());
        String text = WebJson.text(body, "text", null);
        if (text == null) {
            throw new WebException(400, "field 'text' is missing: send the whole new " + kind.file);
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_BYTES) {
            throw new WebException(
                    413,
                    kind.file + " of agent " + agent.name() + " may hold at most " + MAX_BYTES
                            + " bytes; this text has " + bytes.length + " (shorten it, or edit the file on the host)");
        }
        Path file = path(agent.name(), kind);
        Path folder = file.getParent();
        if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
            throw new WebException(409, "agent " + agent.name() + " has no folder " + folder + " (restart the daemon)");
        }
        String before;
        try {
            if (!read(agent.name(), kind).editable()) {
                throw new WebException(
                        409,
                        kind.file + " of agent " + agent.name() + " is a link, not a regular file, or over " + MAX_BYTES
                                + " bytes: edit it on the host (" + file + ")");
            }
            before = sha256(file);
            replace(folder, file, bytes);
        } catch (IOException e) {
            // A full workspace (its disk quota) or a folder the agent made unwritable: nothing was replaced.
            throw new WebException(
                    507, "could not save " + kind.file + " of agent " + agent.name() + ": " + e.getMessage());
        }
        audit.append(AuditEvent.of(
                        clock.instant(),
                        AuditEvent.Actor.user(caller.user().toString()),
                        AuditActions.AGENT_EDIT,
                        AuditEvent.Decision.ALLOW)
                .withAgent(agent.name())
                .withReason("edited on the dashboard")
                .withDetails(Map.of(
                        "file",
                        kind.file,
                        "bytes",
                        bytes.length,
                        "sha256",
                        HexFormat.of().formatHex(sha256().digest(bytes)),
                        "previous_sha256",
                        before)));
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put(kind.field, text);
        answer.put("bytes", bytes.length);
        answer.put("message", "Saved " + kind.file + " of agent " + agent.name() + " (" + bytes.length + " bytes).");
        WebApi.json(ctx, 200, answer);
    }

    /**
     * Writes {@code bytes} to a new file in {@code folder} and renames it over {@code file}: the
     * rename replaces whatever {@code file} is (a symlink included) and never follows it. The new
     * file gets the folder's owner and group, so the agent (its own uid when the daemon runs as
     * root) can go on changing its memory.
     */
    private static void replace(Path folder, Path file, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(
                folder,
                ".cordon-edit-",
                ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        try {
            Files.write(tmp, bytes);
            PosixFileAttributes owner =
                    Files.readAttributes(folder, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            PosixFileAttributeView view =
                    Files.getFileAttributeView(tmp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (!view.readAttributes().owner().equals(owner.owner())) {
                view.setOwner(owner.owner());
            }
            if (!view.readAttributes().group().equals(owner.group())) {
                view.setGroup(owner.group());
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The SHA-256 of a regular file's bytes, or "none"; never through a symlink. */
    private static String sha256(Path file) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return "none";
        }
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
