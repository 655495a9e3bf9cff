package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.sandbox.SandboxSpec;
import dev.cordon.protocol.Wire;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.type.TypeReference;

/**
 * Folders one agent's workspace lends another, read-only ({@code cordon agents share}, docs/agents.md
 * #sharing): the grants, kept in {@code data/shares.json} in the Cordon home (no sandbox sees it),
 * and the mounts they give a reader's sandbox when it starts. A grant names a folder, never a file
 * the owner could swap: at each start the folder must still be a real directory inside the owner's
 * workspace, with no symbolic link on the way, or it is left out. Thread-safe; changes are written
 * whole to a new file that replaces the old one.
 */
final class Shares {
    private static final Logger LOG = LoggerFactory.getLogger(Shares.class);

    /** Where a reader finds an owner's folder: {@code /shared/OWNER/FOLDER}, outside its workspace. */
    static final String ROOT = "/shared";

    /** One path segment of a shared folder: no hidden names, nothing that leaves the workspace. */
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,63}");

    static final int MAX_DEPTH = 8;

    /** One grant, as stored. */
    record Share(String owner, String folder, String reader, String grantedBy, long grantedAtMillis) {}

    private final Path file;
    private final Home home;

    Shares(Home home) {
        this.home = home;
        this.file = home.data().resolve("shares.json");
    }

    /**
     * A folder as a grant names it, relative to the owner's workspace.
     *
     * @throws IllegalArgumentException naming the folder and what is wrong
     */
    static String folder(String folder) {
        String[] segments = folder == null ? new String[0] : folder.split("/", -1);
        if (segments.length == 0 || segments.length > MAX_DEPTH) {
            throw new IllegalArgumentException("folder '" + folder + "' must be 1 to " + MAX_DEPTH
                    + " names joined by /, relative to the agent's workspace, such as reports or notes/2025");
        }
        for (String s : segments) {
            if (!SEGMENT.matcher(s).matches()) {
                throw new IllegalArgumentException("folder '" + folder + "': '" + s + "' is not a folder name"
                        + " (letters, digits, '.', '_' and '-', not starting with '.' or '-'; no '..', no leading /)");
            }
        }
        return folder;
    }

    synchronized List<Share> all() {
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            return List.copyOf(Wire.mapper().readValue(Files.readString(file), new TypeReference<List<Share>>() {}));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Adds a grant; false if it exists already. */
    synchronized boolean add(AgentName owner, String folder, AgentName reader, String by, Instant at) {
        List<Share> shares = new ArrayList<>(all());
        if (find(shares, owner, folder, reader) >= 0) {
            return false;
        }
        shares.add(new Share(owner.value(), folder, reader.value(), by, at.toEpochMilli()));
        write(shares);
        return true;
    }

    /** Removes a grant; false if there was none. */
    synchronized boolean remove(AgentName owner, String folder, AgentName reader) {
        List<Share> shares = new ArrayList<>(all());
        int at = find(shares, owner, folder, reader);
        if (at < 0) {
            return false;
        }
        shares.remove(at);
        write(shares);
        return true;
    }

    /**
     * The read-only mounts {@code reader}'s sandbox gets now. A folder that is gone, or is not a real
     * directory inside its owner's workspace (a symbolic link the owner put there could point
     * anywhere on the host), is left out and logged.
     */
    List<SandboxSpec.Mount> mounts(AgentName reader) {
        List<SandboxSpec.Mount> mounts = new ArrayList<>();
        for (Share s : all()) {
            if (!s.reader().equals(reader.value())) {
                continue;
            }
            Path workspace = home.workspace(new AgentName(s.owner()));
            try {
                Path base = workspace.toRealPath();
                Path wanted = base.resolve(s.folder());
                Path real = wanted.toRealPath();
                if (!real.equals(wanted) || !Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
                    LOG.warn(
                            "share of {}'s {} with {} left out: it is not a directory of that workspace without"
                                    + " symbolic links",
                            s.owner(),
                            s.folder(),
                            reader);
                    continue;
                }
                mounts.add(new SandboxSpec.Mount(
                        real, ROOT + "/" + s.owner() + "/" + s.folder(), SandboxSpec.Mode.READ_ONLY));
            } catch (IOException e) {
                LOG.warn("share of {}'s {} with {} left out: {}", s.owner(), s.folder(), reader, e.toString());
            }
        }
        return mounts;
    }

    private static int find(List<Share> shares, AgentName owner, String folder, AgentName reader) {
        for (int i = 0; i < shares.size(); i++) {
            Share s = shares.get(i);
            if (s.owner().equals(owner.value())
                    && s.folder().equals(folder)
                    && s.reader().equals(reader.value())) {
                return i;
            }
        }
        return -1;
    }

    private void write(List<Share> shares) {
        try {
            Path next = file.resolveSibling(file.getFileName() + ".new");
            Files.writeString(
                    next, Wire.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(shares));
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
