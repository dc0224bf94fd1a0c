package dev.mover.bench.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the node harness that need no Elasticsearch process: settings rendering, unpacking, root check. */
class LocalNodeTests {

    @Test
    void singleNodeYamlBindsLoopbackWithoutSecurity() {
        String yaml = LocalNode.config(Path.of("/n")).yaml(Path.of("/n"));
        assertTrue(yaml.contains("discovery.type: \"single-node\"\n"), yaml);
        assertTrue(yaml.contains("network.host: \"127.0.0.1\"\n"), yaml);
        assertTrue(yaml.contains("xpack.security.enabled: false\n"), yaml);
        assertTrue(yaml.contains("http.port: 0\n"), yaml);
        assertTrue(yaml.contains("node.portsfile: true\n"), yaml);
        assertTrue(yaml.contains("path.data: \"/n/data\"\n"), yaml);
        assertFalse(yaml.contains("seed_hosts"), yaml);
    }

    @Test
    void clusterYamlListsSeedsAndMastersAndExtraSettingsWin() {
        String yaml = LocalNode.config(Path.of("/n")).nodeName("node-1")
                .discovery(List.of("127.0.0.1:9301", "127.0.0.1:9302"), List.of("node-0", "node-1"))
                .setting("mover.encoder.intra_op_threads", 2)
                .setting("cluster.name", "quote\"d")
                .yaml(Path.of("/n"));
        assertTrue(yaml.contains("discovery.seed_hosts: [\"127.0.0.1:9301\", \"127.0.0.1:9302\"]\n"), yaml);
        assertTrue(yaml.contains("cluster.initial_master_nodes: [\"node-0\", \"node-1\"]\n"), yaml);
        assertTrue(yaml.contains("mover.encoder.intra_op_threads: 2\n"), yaml);
        assertTrue(yaml.contains("cluster.name: \"quote\\\"d\"\n"), yaml);
        assertFalse(yaml.contains("single-node"), yaml);
    }

    @Test
    void refusesRoot() {
        String user = System.getProperty("user.name");
        try {
            System.setProperty("user.name", "root");
            IllegalStateException e = assertThrows(IllegalStateException.class, LocalNode::refuseRoot);
            assertTrue(e.getMessage().contains("[root]"), e.getMessage());
            System.setProperty("user.name", "someone");
            LocalNode.refuseRoot();
        } finally {
            System.setProperty("user.name", user);
        }
    }

    private static void zip(Path zip, String... namesAndContents) throws IOException {
        try (OutputStream out = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(out)) {
            for (int i = 0; i < namesAndContents.length; i += 2) {
                z.putNextEntry(new ZipEntry(namesAndContents[i]));
                z.write(namesAndContents[i + 1].getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
    }

    @Test
    void unzipDropsTopDirectoryAndMakesBinExecutable(@TempDir Path tmp) throws IOException {
        Path zip = tmp.resolve("d.zip");
        zip(zip, "es-1/bin/elasticsearch", "#!/bin/sh\n", "es-1/bin/elasticsearch.bat", "rem\n",
                "es-1/config/jvm.options", "-Xss1m\n");
        Path home = tmp.resolve("home");
        EsHome.unzipStrippingTopDir(zip, home);
        assertEquals("#!/bin/sh\n", Files.readString(home.resolve("bin/elasticsearch")));
        assertTrue(Files.isExecutable(home.resolve("bin/elasticsearch")));
        assertFalse(Files.isExecutable(home.resolve("bin/elasticsearch.bat")));
        assertEquals("-Xss1m\n", Files.readString(home.resolve("config/jvm.options")));
        assertFalse(Files.exists(home.resolve("es-1")));
    }

    @Test
    void unzipRejectsEntriesEscapingTheTarget(@TempDir Path tmp) throws IOException {
        Path zip = tmp.resolve("evil.zip");
        zip(zip, "es-1/bin/x", "x", "es-1/../../outside", "boom");
        IOException e = assertThrows(IOException.class, () -> EsHome.unzipStrippingTopDir(zip, tmp.resolve("home")));
        assertTrue(e.getMessage().contains("escapes"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("outside")));
    }

    @Test
    void prepareNamesMissingZips(@TempDir Path tmp) {
        String user = System.getProperty("user.name");
        try {
            System.setProperty("user.name", "someone");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> EsHome.prepare(tmp.resolve("nope.zip"), List.of(), EsHome.JAVA_17, tmp.resolve("h")));
            assertTrue(e.getMessage().contains("[distribution zip]"), e.getMessage());
        } finally {
            System.setProperty("user.name", user);
        }
    }
}
