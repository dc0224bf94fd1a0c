package dev.mover.encoder.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link OpenAiCompatibleGenerator} against a local chat-completions server on 127.0.0.1 that answers, fails,
 * stalls and streams. Every failing case must end in a {@link GenerationException} naming the generator, within
 * its budget (guarded by {@code assertTimeoutPreemptively} so a hang fails the test instead of blocking it).
 */
class OpenAiCompatibleGeneratorTests {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> UNITS = List.of(
        "The council approved the new budget on Monday.",
        "Spending on public transport rises by ten percent.",
        "The mayor said the plan protects existing bus routes.");
    /** A hang guard, far above every budget used below. */
    private static final Duration GUARD = Duration.ofSeconds(20);

    private HttpServer server;
    private ExecutorService pool;
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicReference<JsonNode> lastBody = new AtomicReference<>();
    private final AtomicReference<String> lastAuth = new AtomicReference<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        pool = Executors.newCachedThreadPool();
        server.setExecutor(pool);
        server.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        release.countDown();
        server.stop(0);
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
    }

    private URI base(String ctx) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + ctx);
    }

    /** Registers a handler at {@code ctx/v1/chat/completions} that records the request first. */
    private void handle(String ctx, HttpHandler h) {
        server.createContext(ctx + "/v1/chat/completions", ex -> {
            try {
                lastBody.set(JSON.readTree(ex.getRequestBody().readAllBytes()));
                lastAuth.set(ex.getRequestHeaders().getFirst("Authorization"));
                h.handle(ex);
            } catch (IOException e) {
                // client went away (cancelled stream): fine
            } finally {
                ex.close();
            }
        });
    }

    private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    private static String completion(String content, String finish) throws IOException {
        return JSON.writeValueAsString(JSON.createObjectNode()
            .put("id", "x").put("object", "chat.completion")
            .set("choices", JSON.createArrayNode().add(JSON.createObjectNode().put("index", 0)
                .put("finish_reason", finish)
                .set("message", JSON.createObjectNode().put("role", "assistant").put("content", content)))));
    }

    private OpenAiCompatibleGenerator generator(String ctx, boolean stream, Duration request) {
        return new OpenAiCompatibleGenerator(OpenAiCompatibleGenerator.Settings.of(base(ctx), "tiny-llm")
            .withStream(stream).withTimeouts(Duration.ofSeconds(2), request), "sk-test".toCharArray());
    }

    private static GenerationRequest request(String query, long budgetMs) {
        return new GenerationRequest(UNITS, query, null, 64, budgetMs);
    }

    @Test
    void testGenerate_whenServerAnswers_thenTextAndSupportFlags() throws Exception {
        String answer = "The council approved the new budget on Monday, and spending on public transport rises by ten percent. "
            + "Critics fear the zoo will close next winter.";
        handle("/ok", ex -> send(ex, 200, "application/json", completion(answer, "stop")));
        GenerationResult r = assertTimeoutPreemptively(GUARD,
            () -> generator("/ok", false, Duration.ofSeconds(10)).generate(request("What happens to buses?", 10_000)));

        assertEquals(answer, r.text());
        assertEquals("openai_compatible", r.generator());
        assertEquals(GenerationResult.StopReason.END, r.stopReason());
        assertEquals(2, r.sentences().size());
        assertTrue(r.sentences().get(0).supported(), r.sentences().get(0).toString());
        assertFalse(r.sentences().get(1).supported(), r.sentences().get(1).toString());
        assertEquals("Critics fear the zoo will close next winter.", r.sentences().get(1).text());
        assertEquals(answer.indexOf("Critics"), r.sentences().get(1).start());
        assertFalse(r.allSupported());
        assertEquals(List.of("[openai_compatible] [1] of [2] sentences are not supported by the source (n-gram overlap below [0.5])"),
            r.warnings());

        JsonNode body = lastBody.get();
        assertEquals("tiny-llm", body.get("model").asText());
        assertEquals(0, body.get("temperature").asInt());
        assertEquals(64, body.get("max_tokens").asInt());
        assertFalse(body.get("stream").asBoolean());
        assertEquals("system", body.get("messages").get(0).get("role").asText());
        String user = body.get("messages").get(1).get("content").asText();
        assertTrue(user.startsWith("Query: What happens to buses?"), user);
        assertTrue(user.contains("[2] Spending on public transport rises by ten percent."), user);
        assertTrue(user.indexOf("[1] The council") < user.indexOf("[3] The mayor"), user);
        assertEquals("Bearer sk-test", lastAuth.get());
    }

    @Test
    void testGenerate_whenBaseUrlEndsWithV1_thenCompletionsPathAppended() {
        OpenAiCompatibleGenerator.Settings s = OpenAiCompatibleGenerator.Settings.of(URI.create("http://h:1/v1/"), "m");
        assertEquals(URI.create("http://h:1/v1/chat/completions"), s.endpoint());
        assertEquals(URI.create("http://h:1/v1/chat/completions"),
            OpenAiCompatibleGenerator.Settings.of(URI.create("http://h:1"), "m").endpoint());
        assertEquals(URI.create("http://h:1/api/chat/completions"),
            OpenAiCompatibleGenerator.Settings.of(URI.create("http://h:1/api/chat/completions"), "m").endpoint());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> OpenAiCompatibleGenerator.Settings.of(URI.create("ftp://h/x"), "m"));
        assertEquals("[openai_compatible] [endpoint] must be an http(s) URL but was [ftp://h/x]", e.getMessage());
    }

    @Test
    void testGenerate_whenChinese_thenChinesePromptAndCharacterBigramSupport() throws Exception {
        List<String> units = List.of("原告与被告于2019年签订借款合同，", "被告到期未还款，", "法院判决被告归还借款本金十万元。");
        String answer = "被告到期未还款，法院判决被告归还借款本金十万元。双方随后达成和解并撤诉。";
        handle("/zh", ex -> send(ex, 200, "application/json; charset=utf-8", completion(answer, "stop")));
        GenerationResult r = assertTimeoutPreemptively(GUARD, () -> generator("/zh", false, Duration.ofSeconds(10))
            .generate(new GenerationRequest(units, null, null, 64, 10_000)));
        assertEquals(answer, r.text());
        assertEquals(2, r.sentences().size());
        assertTrue(r.sentences().get(0).supported());
        assertEquals(1.0, r.sentences().get(0).overlap(), 1e-12);
        assertFalse(r.sentences().get(1).supported());
        String user = lastBody.get().get("messages").get(1).get("content").asText();
        assertTrue(user.startsWith("原文片段"), user);
        assertTrue(lastBody.get().get("messages").get(0).get("content").asText().contains("中文"));
    }

    @Test
    void testGenerate_whenFinishReasonLength_thenWarningAndMaxTokens() throws Exception {
        handle("/len", ex -> send(ex, 200, "application/json", completion("The council approved the new budget", "length")));
        GenerationResult r = assertTimeoutPreemptively(GUARD,
            () -> generator("/len", false, Duration.ofSeconds(10)).generate(request(null, 10_000)));
        assertEquals(GenerationResult.StopReason.MAX_TOKENS, r.stopReason());
        assertEquals(List.of("[openai_compatible] summary cut at [max_tokens=64]"), r.warnings());
        String user = lastBody.get().get("messages").get(1).get("content").asText();
        assertTrue(user.startsWith("Source passages"), user);
    }

    @Test
    void testGenerate_whenUnitsExceedPromptCap_thenLaterUnitsLeftOutWithWarning() throws Exception {
        handle("/cap", ex -> send(ex, 200, "application/json", completion("The council approved the new budget on Monday.", "content_filter")));
        OpenAiCompatibleGenerator g = new OpenAiCompatibleGenerator(OpenAiCompatibleGenerator.Settings.of(base("/cap"), "m")
            .withMaxPromptChars(100), null);
        GenerationResult r = assertTimeoutPreemptively(GUARD, () -> g.generate(request(null, 10_000)));
        String user = lastBody.get().get("messages").get(1).get("content").asText();
        assertTrue(user.contains("[2] Spending on public transport"), user);
        assertFalse(user.contains("The mayor"), user);
        assertEquals(List.of("[openai_compatible] [1] of [3] units left out of the prompt ([max_prompt_chars=100])",
            "[openai_compatible] endpoint finished with [finish_reason=content_filter]"), r.warnings());
        assertEquals(null, lastAuth.get(), "no API key, no Authorization header");
    }

    @Test
    void testGenerate_when5xx_thenErrorWithStatusAndBody() {
        handle("/err", ex -> send(ex, 503, "application/json", "{\"error\":{\"message\":\"model is loading\"}}"));
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/err", false, Duration.ofSeconds(10)).generate(request(null, 10_000))));
        assertEquals("[openai_compatible] endpoint [" + base("/err") + "/v1/chat/completions] returned HTTP [503]: "
            + "{\"error\":{\"message\":\"model is loading\"}}", e.getMessage());
        assertEquals("openai_compatible", e.generator());
        assertFalse(e.isTimeout());
    }

    @Test
    void testGenerate_whenMalformedJson_thenClearError() {
        handle("/bad", ex -> send(ex, 200, "application/json", "{\"choices\": [ {\"message\": "));
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/bad", false, Duration.ofSeconds(10)).generate(request(null, 10_000))));
        assertTrue(e.getMessage().startsWith("[openai_compatible] malformed response from [" + base("/bad")
            + "/v1/chat/completions]: not JSON ("), e.getMessage());
    }

    @Test
    void testGenerate_whenJsonWithoutContent_thenClearError() {
        handle("/nocontent", ex -> send(ex, 200, "application/json", "{\"choices\": []}"));
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/nocontent", false, Duration.ofSeconds(10)).generate(request(null, 10_000))));
        assertTrue(e.getMessage().contains("no [choices[0].message.content]"), e.getMessage());
    }

    @Test
    void testGenerate_whenEmptyContent_thenClearError() {
        handle("/empty", ex -> send(ex, 200, "application/json", completion("  ", "stop")));
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/empty", false, Duration.ofSeconds(10)).generate(request(null, 10_000))));
        assertTrue(e.getMessage().endsWith("returned an empty summary (finish_reason [stop])"), e.getMessage());
    }

    @Test
    void testGenerate_whenServerNeverAnswers_thenTimeoutWithinBudget() {
        handle("/slow", ex -> {
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long t0 = System.nanoTime();
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/slow", false, Duration.ofSeconds(30)).generate(request(null, 400))));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(e.isTimeout(), e.getMessage());
        assertTrue(e.getMessage().contains("timed out: no response within [400ms]"), e.getMessage());
        assertTrue(ms < 10_000, "took " + ms + "ms");
    }

    @Test
    void testGenerate_whenRequestTimeoutSmallerThanBudget_thenRequestTimeoutApplies() {
        handle("/slow2", ex -> {
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/slow2", false, Duration.ofMillis(300)).generate(request(null, 60_000))));
        assertTrue(e.isTimeout());
        assertTrue(e.getMessage().contains("[300ms]"), e.getMessage());
    }

    @Test
    void testGenerate_whenEndpointDown_thenConnectError() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        OpenAiCompatibleGenerator g = new OpenAiCompatibleGenerator(
            OpenAiCompatibleGenerator.Settings.of(URI.create("http://127.0.0.1:" + port), "m"), null);
        GenerationException e = assertThrows(GenerationException.class,
            () -> assertTimeoutPreemptively(GUARD, () -> g.generate(request(null, 5_000))));
        assertTrue(e.getMessage().startsWith("[openai_compatible] cannot connect to endpoint [http://127.0.0.1:" + port
            + "/v1/chat/completions]"), e.getMessage());
    }

    private static String sse(String delta) throws IOException {
        return "data: " + JSON.writeValueAsString(JSON.createObjectNode()
            .set("choices", JSON.createArrayNode().add(JSON.createObjectNode().put("index", 0)
                .set("delta", JSON.createObjectNode().put("content", delta))))) + "\n\n";
    }

    @Test
    void testGenerate_whenStreamed_thenChunksJoinedAcrossSplitUtf8() throws Exception {
        handle("/stream", ex -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            byte[] all = (": keep-alive\n\n" + sse("The council approved ") + sse("the new budget — ")
                + sse("on Monday.") + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8);
            // write in 7-byte pieces with pauses, so lines and the 3-byte em dash are split across chunks
            for (int i = 0; i < all.length; i += 7) {
                os.write(all, i, Math.min(7, all.length - i));
                os.flush();
                if (i % 70 == 0) {
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            os.close();
        });
        GenerationResult r = assertTimeoutPreemptively(GUARD,
            () -> generator("/stream", true, Duration.ofSeconds(10)).generate(request(null, 10_000)));
        assertEquals("The council approved the new budget — on Monday.", r.text());
        assertTrue(lastBody.get().get("stream").asBoolean());
        assertTrue(r.allSupported(), r.sentences().toString());
        assertEquals(GenerationResult.StopReason.END, r.stopReason());
    }

    @Test
    void testGenerate_whenEventDataSpansLines_thenLinesJoined() throws Exception {
        handle("/multiline", ex -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            String events = "event: message\nid: 1\ndata: {\"choices\": [{\"index\": 0,\ndata:  \"delta\": {\"content\": \"The mayor said\"}}]}\n\n"
                + "retry: 1000\r\ndata: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \" the plan protects existing bus routes.\"},"
                + " \"finish_reason\": \"stop\"}], \"usage\": {\"completion_tokens\": 11}}\r\n\r\n";
            os.write(events.getBytes(StandardCharsets.UTF_8));
            os.close(); // no [DONE]: the finish_reason is enough
        });
        GenerationResult r = assertTimeoutPreemptively(GUARD,
            () -> generator("/multiline", true, Duration.ofSeconds(10)).generate(request(null, 10_000)));
        assertEquals("The mayor said the plan protects existing bus routes.", r.text());
        assertEquals(11, r.tokens());
        assertTrue(r.allSupported());
    }

    @Test
    void testGenerate_whenStreamStalls_thenTimeoutNotHang() {
        handle("/stall", ex -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            os.write(sse("The council approved").getBytes(StandardCharsets.UTF_8));
            os.flush();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long t0 = System.nanoTime();
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/stall", true, Duration.ofSeconds(30)).generate(request(null, 500))));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(e.isTimeout(), e.getMessage());
        assertTrue(e.getMessage().contains("response body stalled after ["), e.getMessage());
        assertTrue(e.getMessage().endsWith("budget [500ms]"), e.getMessage());
        assertTrue(ms < 10_000, "took " + ms + "ms");
    }

    @Test
    void testGenerate_whenStreamEndsWithoutDone_thenClearError() {
        handle("/cut", ex -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            os.write(sse("The council").getBytes(StandardCharsets.UTF_8));
            os.close();
        });
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/cut", true, Duration.ofSeconds(10)).generate(request(null, 10_000))));
        assertTrue(e.getMessage().contains("stream ended after ["), e.getMessage());
        assertFalse(e.isTimeout());
    }

    @Test
    void testGenerate_whenStreamEventMalformed_thenClearError() {
        handle("/badsse", ex -> {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            os.write("data: {\"choices\": [\n\n".getBytes(StandardCharsets.UTF_8));
            os.close();
        });
        GenerationException e = assertThrows(GenerationException.class, () -> assertTimeoutPreemptively(GUARD,
            () -> generator("/badsse", true, Duration.ofSeconds(10)).generate(request(null, 10_000))));
        assertTrue(e.getMessage().contains("malformed response from [") && e.getMessage().contains("stream event is not JSON"),
            e.getMessage());
    }

    @Test
    void testGenerate_whenStreamRequestedButJsonReturned_thenJsonParsed() throws Exception {
        handle("/nostream", ex -> send(ex, 200, "application/json", completion("The mayor said the plan protects existing bus routes.", "stop")));
        GenerationResult r = assertTimeoutPreemptively(GUARD,
            () -> generator("/nostream", true, Duration.ofSeconds(10)).generate(request(null, 10_000)));
        assertEquals("The mayor said the plan protects existing bus routes.", r.text());
    }

    @Test
    void testRequest_whenInvalid_thenMessagesNameTheField() {
        assertEquals("[units] must hold at least one extracted unit but was empty",
            assertThrows(IllegalArgumentException.class, () -> new GenerationRequest(List.of(), null, null, 10, 10)).getMessage());
        assertEquals("[max_new_tokens] must be in [1, 4096] but was [0]",
            assertThrows(IllegalArgumentException.class, () -> new GenerationRequest(UNITS, null, null, 0, 10)).getMessage());
        assertEquals("[time_budget_ms] must be in [1, 600000] but was [0]",
            assertThrows(IllegalArgumentException.class, () -> new GenerationRequest(UNITS, null, null, 1, 0)).getMessage());
    }
}
