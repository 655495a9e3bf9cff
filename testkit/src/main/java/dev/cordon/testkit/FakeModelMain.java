package dev.cordon.testkit;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The fake model server as a command: {@code --port N} (default 8089), {@code --script FILE} (a
 * JSON array of responses, see {@link ScriptFile}), {@code --api-key KEY}. Runs until killed.
 */
public final class FakeModelMain {
    private FakeModelMain() {}

    public static void main(String[] args) throws InterruptedException {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        int port = 8089;
        List<Scripted> script = List.of();
        String apiKey = null;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--help") || flag.equals("-h")) {
                out.println("usage: FakeModelMain [--port N] [--script FILE] [--api-key KEY]");
                return;
            }
            if (i + 1 >= args.length) {
                fail("missing value after " + flag);
            }
            String value = args[++i];
            switch (flag) {
                case "--port" -> port = Integer.parseInt(value);
                case "--script" -> script = ScriptFile.read(Path.of(value));
                case "--api-key" -> apiKey = value;
                default -> fail("unknown option " + flag + "; expected --port, --script or --api-key");
            }
        }
        FakeModelServer server = FakeModelServer.start(port);
        server.requireApiKey(apiKey).enqueue(script.toArray(Scripted[]::new));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "fake-model-shutdown"));
        out.println("Fake model server listening on " + server.baseUrl());
        out.println("  Anthropic base URL: " + server.baseUrl() + "   (POST /v1/messages)");
        out.println("  OpenAI base URL:    " + server.openAiBaseUrl() + "   (POST /v1/chat/completions)");
        out.println("  " + script.size() + " scripted responses queued, then echo mode"
                + (apiKey == null ? "; no API key required" : "; API key required"));
        new CountDownLatch(1).await();
    }

    private static void fail(String message) {
        System.err.println(message);
        System.exit(2);
    }
}
