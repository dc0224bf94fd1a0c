package dev.mover.bench.node;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Several {@link LocalNode}s on 127.0.0.1 forming one cluster (all master-eligible), started from one
 * {@link EsHome}. Transport ports are reserved up front so every node can list the others as seed hosts.
 */
public final class LocalCluster implements AutoCloseable {
    private final List<LocalNode> nodes;

    private LocalCluster(List<LocalNode> nodes) {
        this.nodes = nodes;
    }

    /**
     * Starts {@code size} nodes named {@code node-0..} in {@code workDir/node-i} with the settings of
     * {@code template} (its node name, ports and discovery are replaced) and waits until all have joined and the
     * cluster is at least yellow.
     */
    public static LocalCluster start(EsHome home, int size, LocalNode.Config template, Path workDir)
            throws IOException, InterruptedException {
        List<Integer> ports = freePorts(size);
        List<String> seeds = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            seeds.add("127.0.0.1:" + ports.get(i));
            names.add("node-" + i);
        }
        List<LocalNode> nodes = new ArrayList<>();
        LocalCluster cluster = new LocalCluster(nodes);
        try {
            for (int i = 0; i < size; i++) {
                LocalNode.Config c = template.copy(workDir.resolve(names.get(i)))
                        .nodeName(names.get(i)).transportPort(ports.get(i)).httpPort(0)
                        .discovery(seeds, names).waitForHealth(false);
                nodes.add(LocalNode.launch(home, c));
            }
            for (LocalNode n : nodes) {
                n.awaitStarted(false);
            }
            awaitNodes(nodes.get(0), size);
        } catch (IOException | RuntimeException | InterruptedException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private static void awaitNodes(LocalNode node, int size) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newHttpClient();
        URI uri = node.httpUri().resolve("/_cluster/health?wait_for_status=yellow&wait_for_nodes=" + size
                + "&timeout=2s");
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            last = r.body();
            if (r.statusCode() == 200 && !last.contains("\"timed_out\":true")) {
                return;
            }
            Thread.sleep(250);
        }
        throw new IOException("cluster did not reach [" + size + "] nodes: " + last + "\n"
                + node.tailLog(LocalNode.LOG_TAIL_LINES));
    }

    private static List<Integer> freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports.add(s.getLocalPort());
            }
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
        return ports;
    }

    /** The nodes, in start order. */
    public List<LocalNode> nodes() {
        return List.copyOf(nodes);
    }

    /** HTTP addresses of all running nodes. */
    public List<URI> httpUris() {
        List<URI> uris = new ArrayList<>();
        for (LocalNode n : nodes) {
            if (n.isRunning()) {
                uris.add(n.httpUri());
            }
        }
        return uris;
    }

    @Override
    public void close() {
        for (LocalNode n : nodes) {
            n.close();
        }
    }
}
