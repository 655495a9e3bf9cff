package dev.cordon.core.channel;

import java.util.Objects;

/**
 * A file a person sent along with an inbound message, as the adapter found it on the platform. The
 * adapter knows how to fetch it (an authenticated download, or bytes already in hand for email);
 * the host fetches it while it stores the message, keeps it on the host and hands it to the agent.
 * An adapter never writes a file anywhere itself.
 *
 * @param name the file's name as the sender gave it (untrusted: the host sanitises it)
 * @param mediaType e.g. {@code image/png}; {@code application/octet-stream} when the platform does
 *     not say
 * @param size the size the platform declares in bytes, or -1 when it does not say (the host
 *     enforces its own limit on the bytes it reads either way)
 * @param bytes opens the bytes (each call a fresh stream the caller closes); throws {@link
 *     java.io.IOException} with a message naming the platform's answer when the download fails
 */
public record InboundFile(String name, String mediaType, long size, Attachment.Source bytes) {
    public InboundFile {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(bytes, "bytes");
    }
}
