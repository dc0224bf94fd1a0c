package dev.mover.encoder.generate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Generator backed by an OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server, Ollama,
 * LM Studio, TGI ...), for users who run their own LLM server.
 *
 * <p><b>Request.</b> {@code POST <endpoint>} with {@code {"model", "messages": [system, user], "temperature": 0,
 * "max_tokens", "stream"}} and, when an API key is given, {@code Authorization: Bearer <key>}. The system message
 * asks for a faithful summary using only the source; the user message lists the extracted units numbered in
 * document order, preceded by the query when there is one (see {@link #buildMessages(GenerationRequest)}).
 *
 * <p><b>Response.</b> Without streaming, {@code choices[0].message.content}; with streaming, server-sent events
 * {@code data: {"choices":[{"delta":{"content":...}}]}} up to {@code data: [DONE]}. A {@code finish_reason} of
 * {@code length} adds a warning and {@link GenerationResult.StopReason#MAX_TOKENS}.
 *
 * <p><b>Support.</b> Each sentence of the answer is checked by {@link SupportChecker} against the units; unsupported
 * ones are flagged in {@link GenerationResult#sentences()} and counted in a warning.
 *
 * <p><b>Bounds.</b> The connection is bounded by {@link Settings#connectTimeout()}; the whole exchange (headers,
 * body, every streamed chunk) by the smaller of {@link Settings#requestTimeout()} and the request's time budget, so a
 * server that never answers, answers slowly or stalls mid-stream ends in a {@link GenerationException} with
 * {@link GenerationException#isTimeout()} set, never a hang. Response bodies over {@value #MAX_RESPONSE_BYTES}
 * bytes are rejected.
 *
 * <p>Instances are thread-safe; one {@link HttpClient} is shared by all calls. Inside Elasticsearch the plugin needs
 * the {@code outbound_network} entitlement for this class to connect.
 */
public final class OpenAiCompatibleGenerator implements Generator {

    /** The generator's name. */
    public static final String NAME = "openai_compatible";
    /** Largest response body accepted. */
    public static final int MAX_RESPONSE_BYTES = 8 << 20;
    /** Default {@link Settings#maxPromptChars()}. */
    public static final int DEFAULT_MAX_PROMPT_CHARS = 48_000;
    private static final int MAX_ERROR_BODY_CHARS = 300;

    /**
     * Connection settings.
     *
     * @param endpoint         the chat-completions URL; a base URL ({@code http://host:port} or
     *                         {@code http://host:port/v1}) is completed to {@code .../v1/chat/completions}
     * @param model            the model name sent in the request
     * @param connectTimeout   bound on opening the connection
     * @param requestTimeout   bound on the whole exchange (capped further by the request's time budget)
     * @param stream           whether to ask for a server-sent-event stream
     * @param supportThreshold {@link SupportChecker} threshold, in [0, 1]
     * @param maxPromptChars   characters of units put in the prompt at most, in [1, 1,000,000]; later units that do
     *                         not fit are left out with a warning (default 48,000, about 12k tokens of English)
     */
    public record Settings(URI endpoint, String model, Duration connectTimeout, Duration requestTimeout, boolean stream,
                           double supportThreshold, int maxPromptChars) {
        public Settings {
            if (endpoint == null || endpoint.getScheme() == null
                || !(endpoint.getScheme().equals("http") || endpoint.getScheme().equals("https")) || endpoint.getHost() == null) {
                throw new IllegalArgumentException("[" + NAME + "] [endpoint] must be an http(s) URL but was [" + endpoint + "]");
            }
            if (model == null || model.isBlank()) {
                throw new IllegalArgumentException("[" + NAME + "] [model] must be set but was [" + model + "]");
            }
            checkPositive("connect_timeout", connectTimeout);
            checkPositive("request_timeout", requestTimeout);
            if (!(supportThreshold >= 0 && supportThreshold <= 1)) {
                throw new IllegalArgumentException("[" + NAME + "] [support_threshold] must be in [0, 1] but was ["
                    + supportThreshold + "]");
            }
            if (maxPromptChars < 1 || maxPromptChars > 1_000_000) {
                throw new IllegalArgumentException("[" + NAME + "] [max_prompt_chars] must be in [1, 1000000] but was ["
                    + maxPromptChars + "]");
            }
            endpoint = completions(endpoint);
        }

        /** Settings with a 5 s connect timeout, a 60 s request timeout, no streaming and the default threshold. */
        public static Settings of(URI endpoint, String model) {
            return new Settings(endpoint, model, Duration.ofSeconds(5), Duration.ofSeconds(60), false,
                SupportChecker.DEFAULT_THRESHOLD, DEFAULT_MAX_PROMPT_CHARS);
        }

        /** A copy with streaming on or off. */
        public Settings withStream(boolean s) {
            return new Settings(endpoint, model, connectTimeout, requestTimeout, s, supportThreshold, maxPromptChars);
        }

        /** A copy with other timeouts. */
        public Settings withTimeouts(Duration connect, Duration request) {
            return new Settings(endpoint, model, connect, request, stream, supportThreshold, maxPromptChars);
        }

        /** A copy with another support threshold. */
        public Settings withSupportThreshold(double t) {
            return new Settings(endpoint, model, connectTimeout, requestTimeout, stream, t, maxPromptChars);
        }

        /** A copy with another prompt size cap. */
        public Settings withMaxPromptChars(int n) {
            return new Settings(endpoint, model, connectTimeout, requestTimeout, stream, supportThreshold, n);
        }

        private static void checkPositive(String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("[" + NAME + "] [" + name + "] must be positive but was [" + d + "]");
            }
        }

        private static URI completions(URI u) {
            String path = u.getPath() == null ? "" : u.getPath();
            if (path.endsWith("/chat/completions")) {
                return u;
            }
            String base = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
            String full = base.endsWith("/v1") ? base + "/chat/completions" : base + "/v1/chat/completions";
            return u.resolve(full);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Settings settings;
    private final String authorization;
    private final HttpClient client;

    /**
     * @param settings endpoint, model, timeouts
     * @param apiKey   the API key (from the keystore), or {@code null}/empty for none; copied, the caller may wipe it
     */
    public OpenAiCompatibleGenerator(Settings settings, char[] apiKey) {
        this.settings = settings;
        this.authorization = apiKey == null || apiKey.length == 0 ? null : "Bearer " + new String(apiKey);
        this.client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(settings.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The settings (with the endpoint completed to the chat-completions path). */
    public Settings settings() {
        return settings;
    }

    @Override
    public GenerationResult generate(GenerationRequest request) {
        long started = System.nanoTime();
        long budgetNanos = Math.min(settings.requestTimeout().toNanos(), TimeUnit.MILLISECONDS.toNanos(request.timeBudgetMillis()));
        long deadline = started + budgetNanos;
        int[] dropped = new int[1];
        byte[] body = requestBody(request, dropped);
        HttpRequest.Builder rb = HttpRequest.newBuilder(settings.endpoint())
            .timeout(Duration.ofNanos(budgetNanos))
            .header("Content-Type", "application/json")
            .header("Accept", settings.stream() ? "text/event-stream" : "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null) {
            rb.header("Authorization", authorization);
        }
        CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>> future =
            client.sendAsync(rb.build(), HttpResponse.BodyHandlers.ofPublisher());
        HttpResponse<Flow.Publisher<List<ByteBuffer>>> response;
        try {
            response = future.get(remainingNanos(deadline), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw timeout("no response within [" + millis(budgetNanos) + "ms]", e);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new GenerationException(NAME, "interrupted while waiting for [" + settings.endpoint() + "]", false, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof HttpConnectTimeoutException) {
                throw timeout("cannot connect within [" + settings.connectTimeout().toMillis() + "ms]", c);
            }
            if (c instanceof HttpTimeoutException) {
                throw timeout("no response within [" + millis(budgetNanos) + "ms]", c);
            }
            if (c instanceof ConnectException) {
                throw new GenerationException(NAME, "cannot connect to endpoint [" + settings.endpoint() + "]: "
                    + c.getClass().getSimpleName() + (c.getMessage() == null ? "" : " " + c.getMessage()), false, c);
            }
            throw new GenerationException(NAME, "request to endpoint [" + settings.endpoint() + "] failed: " + c, false, c);
        }
        BodyReader reader = new BodyReader(response.body(), deadline, budgetNanos);
        int status = response.statusCode();
        if (status < 200 || status >= 300) {
            String text = reader.readErrorBody();
            throw new GenerationException(NAME, "endpoint [" + settings.endpoint() + "] returned HTTP [" + status + "]: "
                + text, false, null);
        }
        Answer answer = settings.stream() && isEventStream(response) ? reader.readStream() : reader.readJson();
        return result(request, answer, started, dropped[0]);
    }

    private static boolean isEventStream(HttpResponse<?> response) {
        return response.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT).startsWith("text/event-stream");
    }

    private GenerationResult result(GenerationRequest request, Answer answer, long started, int dropped) {
        String text = answer.text.strip();
        if (text.isEmpty()) {
            throw new GenerationException(NAME, "endpoint [" + settings.endpoint() + "] returned an empty summary"
                + (answer.finishReason == null ? "" : " (finish_reason [" + answer.finishReason + "])"), false, null);
        }
        List<String> warnings = new ArrayList<>();
        if (dropped > 0) {
            warnings.add("[" + NAME + "] [" + dropped + "] of [" + request.units().size() + "] units left out of the prompt "
                + "([max_prompt_chars=" + settings.maxPromptChars() + "])");
        }
        GenerationResult.StopReason stop = GenerationResult.StopReason.END;
        if ("length".equals(answer.finishReason)) {
            stop = GenerationResult.StopReason.MAX_TOKENS;
            warnings.add("[" + NAME + "] summary cut at [max_tokens=" + request.maxNewTokens() + "]");
        } else if (answer.finishReason != null && !answer.finishReason.equals("stop") && !answer.finishReason.equals("eos")) {
            warnings.add("[" + NAME + "] endpoint finished with [finish_reason=" + answer.finishReason + "]");
        }
        SupportChecker checker = new SupportChecker(request.sourceText(), settings.supportThreshold());
        List<SentenceSupport> sentences = checker.check(text);
        int unsupported = 0;
        for (SentenceSupport s : sentences) {
            if (!s.supported()) {
                unsupported++;
            }
        }
        if (unsupported > 0) {
            warnings.add("[" + NAME + "] [" + unsupported + "] of [" + sentences.size()
                + "] sentences are not supported by the source (n-gram overlap below [" + settings.supportThreshold() + "])");
        }
        return new GenerationResult(text, NAME, sentences, warnings, answer.completionTokens, stop,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /** The chat messages sent for {@code request}: a system message and a user message. */
    static List<String[]> buildMessages(GenerationRequest request) {
        return buildMessages(request, Integer.MAX_VALUE, new int[1]);
    }

    /**
     * The chat messages for {@code request}, with at most {@code maxChars} characters of units ({@code dropped[0]}
     * receives the number of units left out; the first unit is always kept, cut if needed).
     */
    static List<String[]> buildMessages(GenerationRequest request, int maxChars, int[] dropped) {
        boolean cjk = request.isCjk();
        String system = cjk
            ? "你是一个忠实的摘要助手。只使用给出的原文内容，不要添加原文没有的事实。尽量沿用原文的词句，用中文写出简洁连贯的摘要。"
            : "You write faithful summaries. Use only facts stated in the source passages, do not add anything that is "
              + "not in them, and reuse their wording where possible. Write a concise, fluent summary in the language of "
              + "the source.";
        StringBuilder user = new StringBuilder();
        if (request.query() != null) {
            user.append(cjk ? "问题：" : "Query: ").append(request.query().strip()).append("\n\n");
        }
        user.append(cjk ? "原文片段（按原文顺序）：\n" : "Source passages (in document order):\n");
        int n = 1;
        int used = 0;
        for (String u : request.units()) {
            String t = u.strip();
            if (t.isEmpty()) {
                continue;
            }
            if (used + t.length() > maxChars) {
                if (n > 1) {
                    dropped[0]++;
                    continue;
                }
                t = t.substring(0, maxChars);
            }
            used += t.length();
            user.append('[').append(n++).append("] ").append(t).append('\n');
        }
        user.append('\n');
        if (request.query() != null) {
            user.append(cjk ? "请根据原文写一段回答上述问题的摘要。" : "Summarize the passages with respect to the query.");
        } else {
            user.append(cjk ? "请写一段摘要。" : "Summarize the passages.");
        }
        List<String[]> out = new ArrayList<>();
        out.add(new String[] {"system", system});
        out.add(new String[] {"user", user.toString()});
        return out;
    }

    private byte[] requestBody(GenerationRequest request, int[] dropped) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", settings.model());
        ArrayNode messages = root.putArray("messages");
        for (String[] m : buildMessages(request, settings.maxPromptChars(), dropped)) {
            messages.addObject().put("role", m[0]).put("content", m[1]);
        }
        root.put("temperature", 0);
        root.put("max_tokens", request.maxNewTokens());
        root.put("stream", settings.stream());
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private GenerationException timeout(String what, Throwable cause) {
        return new GenerationException(NAME, "endpoint [" + settings.endpoint() + "] timed out: " + what, true, cause);
    }

    private static long remainingNanos(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private record Answer(String text, String finishReason, int completionTokens) {}

    private static final class StreamState {
        final StringBuilder text = new StringBuilder();
        String finish;
        int tokens = -1;

        Answer answer() {
            return new Answer(text.toString(), finish, tokens);
        }
    }

    /**
     * Reads a response body from a {@link Flow.Publisher}, one chunk at a time, waiting for each chunk at most
     * until the deadline; on timeout or error the subscription is cancelled (closing the connection).
     */
    private final class BodyReader implements Flow.Subscriber<List<ByteBuffer>> {
        private static final Object END = new Object();
        private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        private final long deadline;
        private final long budgetNanos;
        private volatile Flow.Subscription subscription;

        BodyReader(Flow.Publisher<List<ByteBuffer>> publisher, long deadline, long budgetNanos) {
            this.deadline = deadline;
            this.budgetNanos = budgetNanos;
            publisher.subscribe(this);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            queue.add(item);
        }

        @Override
        public void onError(Throwable t) {
            queue.add(t);
        }

        @Override
        public void onComplete() {
            queue.add(END);
        }

        /** The next chunk, or {@code null} at the end of the body. */
        @SuppressWarnings("unchecked")
        private byte[] next(int received) {
            Object o;
            try {
                o = queue.poll(remainingNanos(deadline), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                cancel();
                Thread.currentThread().interrupt();
                throw new GenerationException(NAME, "interrupted while reading from [" + settings.endpoint() + "]", false, e);
            }
            if (o == null) {
                cancel();
                throw timeout("response body stalled after [" + received + "] bytes; budget [" + millis(budgetNanos) + "ms]", null);
            }
            if (o == END) {
                return null;
            }
            if (o instanceof Throwable t) {
                if (t instanceof HttpTimeoutException) {
                    throw timeout("response body not complete within [" + millis(budgetNanos) + "ms]", t);
                }
                throw new GenerationException(NAME, "reading the response of [" + settings.endpoint() + "] failed after ["
                    + received + "] bytes: " + t, false, t);
            }
            List<ByteBuffer> buffers = (List<ByteBuffer>) o;
            int len = 0;
            for (ByteBuffer b : buffers) {
                len += b.remaining();
            }
            byte[] out = new byte[len];
            int at = 0;
            for (ByteBuffer b : buffers) {
                int r = b.remaining();
                b.get(out, at, r);
                at += r;
            }
            Flow.Subscription s = subscription;
            if (s != null) {
                s.request(1);
            }
            return out;
        }

        private void cancel() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }

        private byte[] readAll() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] chunk;
            while ((chunk = next(all.size())) != null) {
                if (all.size() + chunk.length > MAX_RESPONSE_BYTES) {
                    cancel();
                    throw new GenerationException(NAME, "response of [" + settings.endpoint() + "] exceeds ["
                        + MAX_RESPONSE_BYTES + "] bytes", false, null);
                }
                all.write(chunk, 0, chunk.length);
            }
            return all.toByteArray();
        }

        String readErrorBody() {
            String text;
            try {
                text = new String(readAll(), StandardCharsets.UTF_8).strip();
            } catch (GenerationException e) {
                text = "(body unreadable: " + e.getMessage() + ")";
            }
            return text.length() > MAX_ERROR_BODY_CHARS ? text.substring(0, MAX_ERROR_BODY_CHARS) + "..." : text;
        }

        Answer readJson() {
            byte[] bytes = readAll();
            JsonNode root;
            try {
                root = JSON.readTree(bytes);
            } catch (java.io.IOException e) {
                throw malformed("not JSON (" + e.getMessage().split("\n")[0] + ")", bytes);
            }
            JsonNode choice = root == null ? null : root.path("choices").path(0);
            JsonNode content = choice == null ? null : choice.path("message").get("content");
            if (content == null || !content.isTextual()) {
                throw malformed("no [choices[0].message.content]", bytes);
            }
            String finish = choice.path("finish_reason").isTextual() ? choice.path("finish_reason").asText() : null;
            int tokens = root.path("usage").path("completion_tokens").asInt(-1);
            return new Answer(content.asText(), finish, tokens);
        }

        /**
         * Reads server-sent events up to {@code data: [DONE]} or the end of the body. Per the SSE format, the
         * {@code data:} lines of one event (up to a blank line) are joined with newlines; other fields and
         * comments ({@code : keep-alive}) are skipped.
         */
        Answer readStream() {
            StreamState st = new StreamState();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            StringBuilder data = new StringBuilder();
            boolean hasData = false;
            int received = 0;
            byte[] chunk;
            while ((chunk = next(received)) != null) {
                received += chunk.length;
                if (received > MAX_RESPONSE_BYTES) {
                    cancel();
                    throw new GenerationException(NAME, "response of [" + settings.endpoint() + "] exceeds ["
                        + MAX_RESPONSE_BYTES + "] bytes", false, null);
                }
                for (byte b : chunk) {
                    if (b != '\n') {
                        line.write(b);
                        continue;
                    }
                    String l = line.toString(StandardCharsets.UTF_8);
                    line.reset();
                    if (l.endsWith("\r")) {
                        l = l.substring(0, l.length() - 1);
                    }
                    if (l.isEmpty()) {
                        if (hasData && dispatch(data.toString(), st)) {
                            cancel();
                            return st.answer();
                        }
                        data.setLength(0);
                        hasData = false;
                    } else if (l.startsWith("data:")) {
                        String d = l.substring(5);
                        if (d.startsWith(" ")) {
                            d = d.substring(1);
                        }
                        if (hasData) {
                            data.append('\n');
                        }
                        data.append(d);
                        hasData = true;
                    }
                }
            }
            if (hasData && dispatch(data.toString(), st)) {
                return st.answer();
            }
            if (st.finish == null) {
                throw malformed("stream ended after [" + received + "] bytes without [DONE] or a finish_reason",
                    st.text.toString().getBytes(StandardCharsets.UTF_8));
            }
            return st.answer();
        }

        /** Handles one event's data; returns true at {@code [DONE]}. */
        private boolean dispatch(String data, StreamState st) {
            String d = data.strip();
            if (d.equals("[DONE]")) {
                return true;
            }
            JsonNode event;
            try {
                event = JSON.readTree(d);
            } catch (java.io.IOException e) {
                cancel();
                throw malformed("stream event is not JSON (" + e.getMessage().split("\n")[0] + ")",
                    d.getBytes(StandardCharsets.UTF_8));
            }
            if (event == null || !event.isObject()) {
                cancel();
                throw malformed("stream event is not a JSON object", d.getBytes(StandardCharsets.UTF_8));
            }
            if (event.has("error")) {
                cancel();
                throw new GenerationException(NAME, "endpoint [" + settings.endpoint() + "] sent an error event: "
                    + clip(event.get("error").toString()), false, null);
            }
            JsonNode choice = event.path("choices").path(0);
            JsonNode delta = choice.path("delta").get("content");
            if (delta != null && delta.isTextual()) {
                st.text.append(delta.asText());
            }
            if (choice.path("finish_reason").isTextual()) {
                st.finish = choice.path("finish_reason").asText();
            }
            if (event.path("usage").has("completion_tokens")) {
                st.tokens = event.path("usage").path("completion_tokens").asInt(-1);
            }
            return false;
        }

        private GenerationException malformed(String what, byte[] body) {
            return new GenerationException(NAME, "malformed response from [" + settings.endpoint() + "]: " + what + ": "
                + clip(new String(body, 0, Math.min(body.length, 2 * MAX_ERROR_BODY_CHARS), StandardCharsets.UTF_8)), false, null);
        }
    }

    private static String clip(String s) {
        String t = s.strip();
        return t.length() > MAX_ERROR_BODY_CHARS ? t.substring(0, MAX_ERROR_BODY_CHARS) + "..." : t;
    }

    @Override
    public String toString() {
        return NAME + "[" + settings.endpoint() + ", model=" + settings.model() + ", stream=" + settings.stream() + "]";
    }
}
