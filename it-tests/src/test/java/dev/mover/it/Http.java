package dev.mover.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.http.util.EntityUtils;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.Response;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Low-level REST calls returning status and parsed JSON, and assertions on ES error bodies. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();

    private Http() {}

    /** Status code and parsed body of one response (4xx/5xx included, never thrown). */
    record Reply(int status, JsonNode body, String raw) {
        /** {@code error.reason} plus every {@code root_cause[].reason} and {@code caused_by.reason}. */
        String reasons() {
            List<String> all = new ArrayList<>();
            collect(body, all);
            return String.join(" | ", all);
        }

        private static void collect(JsonNode n, List<String> out) {
            if (n == null || n.isNull()) {
                return;
            }
            if (n.isObject()) {
                if (n.has("reason") && n.get("reason").isTextual()) {
                    out.add(n.get("reason").asText());
                }
                n.fields().forEachRemaining(e -> collect(e.getValue(), out));
            } else if (n.isArray()) {
                n.forEach(c -> collect(c, out));
            }
        }

        @Override
        public String toString() {
            return "[" + status + "] " + raw;
        }
    }

    static Reply call(RestClient rest, String method, String path, String json) throws IOException {
        Request r = new Request(method, path);
        if (json != null) {
            r.setJsonEntity(json);
        }
        Response resp;
        try {
            resp = rest.performRequest(r);
        } catch (ResponseException e) {
            resp = e.getResponse();
        }
        String raw = resp.getEntity() == null ? "" : EntityUtils.toString(resp.getEntity());
        JsonNode body = raw.isEmpty() ? JSON.nullNode() : parse(raw);
        return new Reply(resp.getStatusLine().getStatusCode(), body, raw);
    }

    private static JsonNode parse(String raw) {
        try {
            return JSON.readTree(raw);
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(raw);
        }
    }

    /** Calls and asserts a 2xx answer. */
    static JsonNode ok(RestClient rest, String method, String path, String json) throws IOException {
        Reply r = call(rest, method, path, json);
        if (r.status() / 100 != 2) {
            fail(method + " " + path + " answered " + r);
        }
        return r.body();
    }

    /**
     * Asserts an ES-style 400 whose reasons name at least one of {@code names} in brackets, e.g. {@code [metric]}.
     */
    static void assertBadRequest(Reply r, String... names) {
        assertEquals(400, r.status(), "expected 400, got " + r);
        String reasons = r.reasons().toLowerCase(Locale.ROOT);
        for (String n : names) {
            if (reasons.contains("[" + n.toLowerCase(Locale.ROOT) + "]")) {
                return;
            }
        }
        fail("400 reason names none of " + List.of(names) + " in brackets: " + r);
    }

    /** Asserts the node still answers cluster health (used after every bad request). */
    static void assertNodeUp(RestClient rest) throws IOException {
        Reply r = call(rest, "GET", "/_cluster/health", null);
        assertEquals(200, r.status(), "node is not answering after a bad request: " + r);
        assertTrue(!"red".equals(r.body().path("status").asText()), "cluster is red: " + r);
    }

    /** A JSON string literal. */
    static String str(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
