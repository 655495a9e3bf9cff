package dev.cordon.channel.email;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An SMTP server that speaks the real dialogue up to RCPT TO and answers that with a reply of the
 * test's choosing (a 550 unknown user, a 451 try later), as mail servers do.
 */
final class ScriptedSmtp implements AutoCloseable {
    private final ServerSocket server;
    private final String rcptReply;

    ScriptedSmtp(String rcptReply) throws IOException {
        this.server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        this.rcptReply = rcptReply;
        Thread.ofVirtual().start(this::serve);
    }

    int port() {
        return server.getLocalPort();
    }

    private void serve() {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                OutputStream out = s.getOutputStream();
                reply(out, "220 scripted.test ESMTP");
                String line;
                session:
                while ((line = in.readLine()) != null) {
                    String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase(java.util.Locale.ROOT) : line;
                    switch (verb) {
                        case "EHLO" -> reply(out, "250-scripted.test\r\n250 AUTH PLAIN LOGIN");
                        case "HELO" -> reply(out, "250 scripted.test");
                        case "AUTH" -> reply(out, "235 2.7.0 Authentication successful");
                        case "MAIL" -> reply(out, "250 2.1.0 Ok");
                        case "RCPT" -> reply(out, rcptReply);
                        case "RSET", "NOOP" -> reply(out, "250 2.0.0 Ok");
                        case "QUIT" -> {
                            reply(out, "221 2.0.0 Bye");
                            break session;
                        }
                        default -> reply(out, "502 5.5.2 Error: command not recognized");
                    }
                }
            } catch (IOException e) {
                // next connection
            }
        }
    }

    private static void reply(OutputStream out, String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
