package dev.mover.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mover.bench.node.LocalCluster;
import dev.mover.bench.node.LocalNode;
import org.apache.http.HttpHost;
import org.elasticsearch.client.RestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 3-node cluster on 127.0.0.1 (same home as the single nodes): an index with 3 shards and 1 replica rescored
 * by WRD gives the same hits and scores as the single Java 17 node, and still answers after a node stops.
 */
class ClusterIT {
    private static final String INDEX = "cluster-en";
    private static LocalCluster cluster;
    private static List<RestClient> clients = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        cluster = LocalCluster.start(Nodes.home(), 3,
                LocalNode.config(Nodes.work()).clusterName("mover-it-cluster").heap("512m"),
                Nodes.work().resolve("cluster"));
        for (URI u : cluster.httpUris()) {
            clients.add(RestClient.builder(new HttpHost("127.0.0.1", u.getPort(), "http")).build());
        }
        RestClient rest = clients.get(0);
        Http.ok(rest, "PUT", "/_ingest/pipeline/cluster-en", Fixtures.pipelineJson(Fixtures.EN_MODEL, false));
        Http.ok(rest, "PUT", "/" + INDEX, Fixtures.indexJson("cluster-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS)
                .replace("\"number_of_shards\": 1, \"number_of_replicas\": 0", "\"number_of_shards\": 3, \"number_of_replicas\": 1"));
        Http.ok(rest, "GET", "/_cluster/health/" + INDEX + "?wait_for_status=green&timeout=60s", null);
        StringBuilder bulk = new StringBuilder();
        for (var e : Fixtures.docs(Fixtures.corpus("en.json")).entrySet()) {
            bulk.append("{\"index\":{\"_id\":").append(Http.str(e.getKey())).append("}}\n")
                    .append("{\"body\":").append(Http.str(e.getValue())).append("}\n");
        }
        JsonNode r = Http.ok(rest, "POST", "/" + INDEX + "/_bulk?refresh=true", bulk.toString());
        assertEquals(false, r.path("errors").asBoolean(), r.toString());
        // the single node holds the same documents for comparison
        Nodes.Node single = Nodes.java17();
        Fixtures.createIndex(single, INDEX, "cluster-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS);
        Fixtures.bulk(single, INDEX, Fixtures.docs(Fixtures.corpus("en.json")));
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (RestClient c : clients) {
            c.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static List<String> hits(RestClient rest, String text) throws Exception {
        JsonNode r = Http.ok(rest, "POST", "/" + INDEX + "/_search", Fixtures.search(text, true, 10));
        assertEquals(0, r.path("_shards").path("failed").asInt(), r.toString());
        List<String> out = new ArrayList<>();
        for (JsonNode h : r.path("hits").path("hits")) {
            out.add(h.path("_id").asText() + String.format(java.util.Locale.ROOT, "=%.4f", h.path("_score").asDouble()));
        }
        return out;
    }

    @Test
    void rescoringOnThreeShardsMatchesOneNodeAndSurvivesANodeStop() throws Exception {
        JsonNode nodes = Http.ok(clients.get(0), "GET", "/_cat/nodes?format=json", null);
        assertEquals(3, nodes.size(), nodes.toString());
        List<String> texts = List.of("A doctor treated the patient in the hospital.", "How to bake a cake in the oven");
        for (String text : texts) {
            List<String> single = hits(Nodes.java17().rest, text);
            assertEquals(single, hits(clients.get(0), text), "cluster vs single node for [" + text + "]");
            assertEquals(single, hits(clients.get(1), text), "coordinating node 1 for [" + text + "]");
        }
        // stop the node behind client 2; the others still answer from the replicas
        cluster.nodes().get(2).stop(Duration.ofSeconds(30));
        JsonNode health = Http.ok(clients.get(0), "GET",
                "/_cluster/health/" + INDEX + "?wait_for_nodes=2&wait_for_status=yellow&timeout=60s", null);
        assertTrue(!health.path("timed_out").asBoolean(), health.toString());
        for (String text : texts) {
            assertEquals(hits(Nodes.java17().rest, text), hits(clients.get(0), text), "after a node stopped");
        }
    }
}
