package dev.cordon.cli;

import java.io.IOException;
import java.nio.file.Path;

/** Starts a daemon for a Cordon home; returns at once, without waiting for its socket. */
@FunctionalInterface
interface DaemonStarter {
    /**
     * Starts the daemon process.
     *
     * @param home the Cordon home the daemon serves (absolute)
     * @param log the file its stdout and stderr are appended to (its directory exists)
     * @return the started process, so a caller can notice that it died before opening its socket
     */
    ProcessHandle start(Path home, Path log) throws IOException;
}
