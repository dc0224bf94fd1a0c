package dev.mover.it;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import dev.mover.bench.node.EsHome;
import dev.mover.bench.node.LocalNode;
import org.apache.http.HttpHost;
import org.elasticsearch.client.RestClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * The real nodes the integration tests talk to, started once per test JVM and shared by all test classes (a boot
 * takes several seconds): one on Java 17 (the full suite) and, on demand, one on Temurin 25 (smoke tests).
 * Each is a single node from the integ-test-zip with the plugin zip installed; they stop when the JVM exits.
 *
 * <p>Paths come from system properties set by the it-tests pom: {@code mover.es.distribution},
 * {@code mover.plugin.zip}, {@code mover.it.work}.
 */
final class Nodes {
    /** Name of the extra model every node gets through {@code mover.models.<name>.path}. */
    static final String EXTRA_MODEL = "extra-en";

    private static EsHome home;
    private static Node java17;
    private static Node java25;

    private Nodes() {}

    /** A started node and clients for it. */
    static final class Node {
        final LocalNode node;
        /** Low-level REST client (plugin endpoints, custom mapping / processor / rescorer JSON). */
        final RestClient rest;
        /** Official Java API client (standard APIs). */
        final ElasticsearchClient es;

        Node(LocalNode node) {
            this.node = node;
            this.rest = RestClient.builder(new HttpHost("127.0.0.1", node.httpPort(), "http")).build();
            this.es = client(rest);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    rest.close();
                } catch (IOException ignored) {
                    // exiting anyway
                }
            }));
        }

        /** The official Java client over a low-level REST client. */
        static ElasticsearchClient client(RestClient rest) {
            return new ElasticsearchClient(new RestClientTransport(rest, new JacksonJsonpMapper()));
        }
    }

    /** The shared Java 17 node. */
    static synchronized Node java17() throws Exception {
        if (java17 == null) {
            java17 = start("java17", EsHome.JAVA_17);
        }
        return java17;
    }

    /** The shared Temurin 25 node, or {@code null} if that JDK is not installed. */
    static synchronized Node java25() throws Exception {
        if (!Files.isExecutable(EsHome.TEMURIN_25.resolve("bin/java"))) {
            return null;
        }
        if (java25 == null) {
            java25 = start("java25", EsHome.TEMURIN_25);
        }
        return java25;
    }

    /** Where the test nodes live ({@code it-tests/target/it-nodes}). */
    static Path work() {
        return Paths.get(System.getProperty("mover.it.work", "target/it-nodes"));
    }

    /** The Elasticsearch home with the plugin installed, shared by every test node. */
    static synchronized EsHome home() throws Exception {
        if (home == null) {
            home = EsHome.prepare(path("mover.es.distribution"), List.of(path("mover.plugin.zip")),
                    EsHome.JAVA_17, work().resolve("home"));
        }
        return home;
    }

    private static Node start(String name, Path javaHome) throws Exception {
        EsHome home = home();
        Path work = work();
        // an extra model named in node settings, kept in the config directory (a copy of the bundled English one)
        LocalNode node = LocalNode.start(home, LocalNode.config(work.resolve(name))
                .javaHome(javaHome).nodeName(name).heap("1g")
                .configFile("models/" + EXTRA_MODEL, home.dir().resolve("plugins/mover/models/all-minilm-l6-v2"))
                .setting("mover.models." + EXTRA_MODEL + ".path", "models/" + EXTRA_MODEL)
                // summary generators: a fake chat endpoint in this JVM, a slow one, and one nobody listens on
                .setting("mover.generators.fake.type", "openai_compatible")
                .setting("mover.generators.fake.url", "http://127.0.0.1:" + FakeLlm.port() + "/ok/v1/chat/completions")
                .setting("mover.generators.fake.model", "fake")
                .setting("mover.generators.slow.type", "openai_compatible")
                .setting("mover.generators.slow.url", "http://127.0.0.1:" + FakeLlm.port() + "/slow/v1/chat/completions")
                .setting("mover.generators.slow.model", "fake")
                .setting("mover.generators.slow.timeout", "2s")
                .setting("mover.generators.down.type", "openai_compatible")
                .setting("mover.generators.down.url", "http://127.0.0.1:" + FakeLlm.closedPort() + "/v1/chat/completions")
                .setting("mover.generators.down.model", "fake")
                .setting("mover.generators.down.timeout", "2s"));
        return new Node(node);
    }

    private static Path path(String property) {
        String v = System.getProperty(property);
        if (v == null) {
            throw new IllegalStateException("system property [" + property + "] is not set (run through Maven)");
        }
        return Paths.get(v);
    }
}
