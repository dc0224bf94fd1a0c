package dev.mover.it;

import co.elastic.clients.elasticsearch.cat.plugins.PluginsRecord;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plugin zip installs with bin/elasticsearch-plugin and the node loads it. */
class PluginInstalledIT {

    @Test
    void pluginIsListedInCatPlugins() throws Exception {
        Nodes.Node n = Nodes.java17();
        List<PluginsRecord> plugins = n.es.cat().plugins().valueBody();
        assertTrue(plugins.stream().anyMatch(p -> "mover".equals(p.component())),
                "_cat/plugins does not list [mover]: " + plugins.stream().map(PluginsRecord::component).toList());
        PluginsRecord mover = plugins.stream().filter(p -> "mover".equals(p.component())).findFirst().orElseThrow();
        assertEquals(System.getProperty("mover.plugin.version", "0.1.0-SNAPSHOT"), mover.version());
    }

    @Test
    void nodeInfoShowsPluginClassAndNoBundledJdk() throws Exception {
        Nodes.Node n = Nodes.java17();
        JsonNode nodes = Http.ok(n.rest, "GET", "/_nodes/plugins,jvm", null).path("nodes");
        JsonNode node = nodes.elements().next();
        boolean found = false;
        for (JsonNode p : node.path("plugins")) {
            if ("mover".equals(p.path("name").asText())) {
                assertEquals("dev.mover.plugin.MoverPlugin", p.path("classname").asText());
                assertEquals("17", p.path("java_version").asText());
                found = true;
            }
        }
        assertTrue(found, "_nodes/plugins lacks [mover]: " + node.path("plugins"));
        assertTrue(node.path("jvm").path("version").asText().startsWith("17"),
                "node is not on Java 17: " + node.path("jvm").path("version"));
    }
}
