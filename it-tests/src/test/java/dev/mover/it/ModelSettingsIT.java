package dev.mover.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models named in node settings: {@code mover.models.extra-en.path: models/extra-en} (relative to the config
 * directory, set up by {@link Nodes}) works like a bundled model; requests can only name models, never paths.
 */
class ModelSettingsIT {
    private static Nodes.Node n;

    @BeforeAll
    static void setUp() throws Exception {
        n = Nodes.java17();
    }

    @AfterEach
    void nodeStaysUp() throws Exception {
        Http.assertNodeUp(n.rest);
    }

    @Test
    void modelFromNodeSettingsEncodesAndRescores() throws Exception {
        IngestIT.assertSimulateEncodes(n, Nodes.EXTRA_MODEL, Fixtures.EN_DIMS, "A model named in elasticsearch.yml.");
        Fixtures.createIndex(n, "extra-model", "extra-model", Nodes.EXTRA_MODEL, Fixtures.EN_DIMS);
        String text = "The night train to the coast was delayed by an hour because of snow.";
        Fixtures.bulk(n, "extra-model", Map.of("train", text, "cat", "The cat is sleeping on the warm sofa."));
        JsonNode r = Http.ok(n.rest, "POST", "/extra-model/_search", Fixtures.search(text, true, 5));
        JsonNode top = r.path("hits").path("hits").path(0);
        assertEquals("train", top.path("_id").asText(), r.toString());
        assertTrue(top.path("_score").asDouble() > 0.97, "own text scores " + top.path("_score"));
    }

    @Test
    void requestsCannotNameAPath() throws Exception {
        for (String model : new String[] {"models/extra-en", "/etc/passwd", "../plugins/mover/models/all-minilm-l6-v2"}) {
            Http.Reply r = Http.call(n.rest, "POST", "/_ingest/pipeline/_simulate", """
                { "pipeline": { "processors": [ { "mover_encode": { "field": "body", "target_field": "t",
                  "model": %s } } ] }, "docs": [ { "_source": { "body": "x" } } ] }
                """.formatted(Http.str(model)));
            Http.assertBadRequest(r, "model", model);
        }
    }

    @Test
    void windowOverTheNodeCapIsRejected() throws Exception {
        Fixtures.createIndex(n, "window-cap", "window-cap", Fixtures.EN_MODEL, Fixtures.EN_DIMS);
        Fixtures.bulk(n, "window-cap", Map.of("1", "A short document."));
        Http.Reply r = Http.call(n.rest, "POST", "/window-cap/_search", """
            { "query": { "match_all": {} }, "rescore": { "window_size": 501,
              "mover": { "field": "body_tokens", "query_text": "short" } } }
            """);
        Http.assertBadRequest(r, "window_size");
    }
}
