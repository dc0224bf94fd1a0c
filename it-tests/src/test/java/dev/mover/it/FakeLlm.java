package dev.mover.it;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A chat-completions endpoint on 127.0.0.1 for the summary generator tests: {@code /ok/v1/chat/completions}
 * answers one sentence copied from the source plus one invented sentence; {@code /slow/v1/chat/completions} answers
 * after 20 s (the node's generator times out first); {@link #closedPort()} is a port nothing listens on.
 */
final class FakeLlm {
    static final String INVENTED = "Purple elephants sang opera on the moon.";
    private static HttpServer server;
    private static final AtomicInteger calls = new AtomicInteger();

    private FakeLlm() {}

    static synchronized int port() throws IOException {
        if (server == null) {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.setExecutor(Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "fake-llm");
                t.setDaemon(true);
                return t;
            }));
            server.createContext("/ok/v1/chat/completions", ex -> {
                calls.incrementAndGet();
                String req = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                // copy the first numbered source unit of the prompt back, then invent one sentence
                String copied = firstUnit(req);
                String content = (copied + " " + INVENTED).replace("\\", "\\\\").replace("\"", "\\\"");
                byte[] b = ("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\","
                    + "\"message\":{\"role\":\"assistant\",\"content\":\"" + content + "\"}}]}").getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
                ex.close();
            });
            server.createContext("/slow/v1/chat/completions", ex -> {
                calls.incrementAndGet();
                try {
                    Thread.sleep(20_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ex.sendResponseHeaders(500, -1);
                ex.close();
            });
            server.start();
        }
        return server.getAddress().getPort();
    }

    static int calls() {
        return calls.get();
    }

    /** The text after the first "[1] " marker of the prompt, up to the end of its line (JSON-escaped newlines). */
    private static String firstUnit(String request) {
        int i = request.indexOf("[1] ");
        if (i < 0) {
            return "The source.";
        }
        int end = request.indexOf("\\n", i);
        String unit = request.substring(i + 4, end < 0 ? Math.min(request.length(), i + 200) : end);
        return unit.replace("\\\"", "\"").trim();
    }

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
