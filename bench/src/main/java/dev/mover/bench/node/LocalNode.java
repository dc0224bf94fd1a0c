package dev.mover.bench.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One Elasticsearch node process started from an {@link EsHome} on 127.0.0.1, for tests, the demo and benchmarks.
 *
 * <p>The node gets its own directory with {@code config/} (a copy of the home's, with {@code elasticsearch.yml}
 * written before the first start: security off, loopback binding, single-node discovery unless seed hosts are
 * given), {@code data/}, {@code logs/} and {@code tmp/}. HTTP and transport ports default to 0 (the OS picks free
 * ones); the bound ports are read from the ports files the node writes ({@code node.portsfile}).
 *
 * <pre>{@code
 * EsHome home = EsHome.prepare(distZip, List.of(pluginZip), EsHome.JAVA_17, work.resolve("home"));
 * try (LocalNode node = LocalNode.start(home, LocalNode.config(work.resolve("node-0")))) {
 *     URI http = node.httpUri();   // http://127.0.0.1:<port>
 * }
 * }</pre>
 *
 * <p>A shutdown hook stops the node if the JVM exits first. Elasticsearch refuses to run as root, so does this
 * class ({@link #refuseRoot()}).
 */
public final class LocalNode implements AutoCloseable {
    /** Lines of the node log quoted in start-up failures. */
    public static final int LOG_TAIL_LINES = 100;

    private final Config config;
    private final Process process;
    private final Thread shutdownHook;
    private volatile URI httpUri;
    private volatile int transportPort = -1;
    private volatile boolean stopped;

    private LocalNode(Config config, Process process) {
        this.config = config;
        this.process = process;
        this.shutdownHook = new Thread(this::stopQuietly, "stop-es-" + config.nodeName);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** A configuration with defaults (Java 17, cluster [mover], node [node-0], free ports, 512m heap). */
    public static Config config(Path nodeDir) {
        return new Config(nodeDir);
    }

    /**
     * Starts a node and waits until it answers {@code _cluster/health?wait_for_status=yellow} (or, with
     * {@link Config#waitForHealth(boolean)} off, until its HTTP port is bound).
     *
     * @throws IOException if the process dies or does not come up within the timeout; the message quotes the
     *     last {@value #LOG_TAIL_LINES} lines of its log
     */
    public static LocalNode start(EsHome home, Config config) throws IOException, InterruptedException {
        LocalNode node = launch(home, config);
        try {
            node.awaitStarted(config.waitForHealth);
        } catch (IOException | RuntimeException | InterruptedException e) {
            node.stopQuietly();
            throw e;
        }
        return node;
    }

    /** Starts the process without waiting (used by {@link LocalCluster} to boot nodes together). */
    static LocalNode launch(EsHome home, Config config) throws IOException {
        refuseRoot();
        Path nodeDir = config.nodeDir.toAbsolutePath();
        Path conf = nodeDir.resolve("config");
        if (config.reuseData) {
            // keep data/ (indices survive restarts) and logs/; config/, tmp/ and the old ports files go
            EsHome.deleteRecursively(conf);
            EsHome.deleteRecursively(nodeDir.resolve("tmp"));
            Files.deleteIfExists(nodeDir.resolve("logs/http.ports"));
            Files.deleteIfExists(nodeDir.resolve("logs/transport.ports"));
        } else {
            EsHome.deleteRecursively(nodeDir);
        }
        Files.createDirectories(nodeDir);
        EsHome.copyTree(home.dir().resolve("config"), conf);
        Files.createDirectories(nodeDir.resolve("data"));
        Files.createDirectories(nodeDir.resolve("logs"));
        Files.createDirectories(nodeDir.resolve("tmp"));
        Files.writeString(conf.resolve("elasticsearch.yml"), config.yaml(nodeDir), StandardCharsets.UTF_8);
        for (Map.Entry<String, Path> f : config.configFiles.entrySet()) {
            Path target = conf.resolve(f.getKey()).normalize();
            if (!target.startsWith(conf)) {
                throw new IllegalArgumentException("[config file] [" + f.getKey() + "] is outside the config directory");
            }
            if (Files.isDirectory(f.getValue())) {
                EsHome.copyTree(f.getValue(), target);
            } else {
                Files.createDirectories(target.getParent());
                Files.copy(f.getValue(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }

        ProcessBuilder pb = new ProcessBuilder(home.dir().resolve("bin/elasticsearch").toString())
                .directory(nodeDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(nodeDir.resolve("logs/console.log").toFile());
        Map<String, String> env = pb.environment();
        env.remove("JAVA_HOME");
        env.put("ES_JAVA_HOME", config.javaHome.toString());
        env.put("ES_PATH_CONF", conf.toString());
        env.put("ES_TMPDIR", nodeDir.resolve("tmp").toString());
        List<String> opts = new ArrayList<>();
        opts.add("-Xms" + config.heap);
        opts.add("-Xmx" + config.heap);
        opts.addAll(config.jvmOptions);
        env.put("ES_JAVA_OPTS", String.join(" ", opts));
        Process p = pb.start();
        p.getOutputStream().close();
        return new LocalNode(config, p);
    }

    void awaitStarted(boolean waitForHealth) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + config.startTimeout.toNanos();
        Path logs = config.nodeDir.toAbsolutePath().resolve("logs");
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("[" + config.nodeName + "] exited with code [" + process.exitValue()
                        + "] during start-up\n" + tailLog(LOG_TAIL_LINES));
            }
            if (httpUri == null) {
                Integer http = readPort(logs.resolve("http.ports"));
                Integer transport = readPort(logs.resolve("transport.ports"));
                if (http != null && transport != null) {
                    httpUri = URI.create("http://127.0.0.1:" + http);
                    transportPort = transport;
                    if (!waitForHealth) {
                        return;
                    }
                }
            }
            if (httpUri != null) {
                try {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                                    httpUri.resolve("/_cluster/health?wait_for_status=yellow&timeout=2s"))
                            .timeout(Duration.ofSeconds(10)).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200 && !r.body().contains("\"timed_out\":true")) {
                        return;
                    }
                } catch (ConnectException e) {
                    // not listening yet
                }
            }
            Thread.sleep(250);
        }
        throw new IOException("[" + config.nodeName + "] did not become healthy within [" + config.startTimeout
                + "]\n" + tailLog(LOG_TAIL_LINES));
    }

    private static Integer readPort(Path portsFile) throws IOException {
        if (!Files.isRegularFile(portsFile)) {
            return null;
        }
        for (String line : Files.readAllLines(portsFile, StandardCharsets.UTF_8)) {
            String s = line.trim();
            if (s.startsWith("127.0.0.1:")) {
                return Integer.parseInt(s.substring("127.0.0.1:".length()));
            }
        }
        return null;
    }

    /** Fails fast when running as root: Elasticsearch refuses it. */
    public static void refuseRoot() {
        if ("root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("Elasticsearch refuses to run as [root]: run through ./mover, which"
                    + " switches to the unprivileged user [mover], or as any non-root user");
        }
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI httpUri() {
        return Objects.requireNonNull(httpUri, "node not started");
    }

    /** HTTP port bound by the node. */
    public int httpPort() {
        return httpUri().getPort();
    }

    /** Transport port bound by the node. */
    public int transportPort() {
        return transportPort;
    }

    /** The node's name. */
    public String name() {
        return config.nodeName;
    }

    /** The node's directory (config/, data/, logs/, tmp/). */
    public Path dir() {
        return config.nodeDir.toAbsolutePath();
    }

    /** The node's main server log ({@code logs/<cluster.name>.log}). */
    public Path logFile() {
        return dir().resolve("logs").resolve(config.clusterName + ".log");
    }

    /** Whether the node process is running. */
    public boolean isRunning() {
        return process.isAlive();
    }

    /** The process id of the launcher process ({@code bin/elasticsearch}). */
    public long pid() {
        return process.pid();
    }

    /** The last {@code lines} lines of the server log, and of the console output if that has more to say. */
    public String tailLog(int lines) {
        StringBuilder sb = new StringBuilder();
        for (Path p : List.of(logFile(), dir().resolve("logs/console.log"))) {
            if (Files.isRegularFile(p)) {
                sb.append("---- last ").append(lines).append(" lines of ").append(p).append(" ----\n");
                sb.append(tail(p, lines));
            }
        }
        return sb.length() == 0 ? "(no log written under " + dir().resolve("logs") + ")" : sb.toString();
    }

    private static String tail(Path p, int lines) {
        Deque<String> last = new ArrayDeque<>(lines);
        try (Stream<String> s = Files.lines(p, StandardCharsets.UTF_8)) {
            s.forEach(l -> {
                if (last.size() == lines) {
                    last.removeFirst();
                }
                last.addLast(l);
            });
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + p + ": " + e + ")\n";
        }
        return String.join("\n", last) + "\n";
    }

    /**
     * Stops the node: SIGTERM to the launcher and the server JVM, then SIGKILL to whatever is still alive after
     * {@code timeout}.
     */
    public synchronized void stop(Duration timeout) throws InterruptedException {
        if (stopped) {
            return;
        }
        stopped = true;
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(process.toHandle());
        process.descendants().forEach(tree::add);
        Collections.reverse(tree);
        for (ProcessHandle h : tree) {
            h.destroy();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle h : tree) {
            long left = deadline - System.nanoTime();
            try {
                h.onExit().get(Math.max(left, 1), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : tree) {
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to run: nothing to remove
            }
        }
    }

    private void stopQuietly() {
        try {
            stop(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /**
     * Leaves the node running after this JVM exits: removes the shutdown hook and makes {@link #close()} a no-op.
     *
     * @return the process ids of the launcher and the server JVM, for {@link #stopPids(List, Duration)}
     */
    public synchronized List<Long> detach() {
        List<Long> pids = new ArrayList<>();
        pids.add(process.pid());
        process.descendants().forEach(h -> pids.add(h.pid()));
        stopped = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // nothing to remove
        }
        return pids;
    }

    /**
     * Stops processes left running by {@link #detach()}: SIGTERM, then SIGKILL after {@code timeout}.
     *
     * @return how many of them were still running
     */
    public static int stopPids(List<Long> pids, Duration timeout) throws InterruptedException {
        List<ProcessHandle> alive = new ArrayList<>();
        for (long pid : pids) {
            ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(alive::add);
        }
        Collections.reverse(alive);
        for (ProcessHandle h : alive) {
            h.destroy();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle h : alive) {
            while (h.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        return alive.size();
    }

    /** Same as {@code stop(30 s)}. */
    @Override
    public void close() {
        stopQuietly();
    }

    /**
     * Settings of one node. Defaults: Java 17, cluster [mover], node [node-0], HTTP and transport ports picked by
     * the OS, single-node discovery, heap 512m, 180 s start timeout.
     */
    public static final class Config {
        private final Path nodeDir;
        private Path javaHome = EsHome.JAVA_17;
        private String clusterName = "mover";
        private String nodeName = "node-0";
        private int httpPort;
        private int transportPort;
        private List<String> seedHosts = List.of();
        private List<String> initialMasterNodes = List.of();
        private String heap = "512m";
        private final List<String> jvmOptions = new ArrayList<>();
        private final Map<String, Object> settings = new LinkedHashMap<>();
        private final Map<String, Path> configFiles = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(180);
        private boolean waitForHealth = true;
        private boolean reuseData;

        Config(Path nodeDir) {
            this.nodeDir = Objects.requireNonNull(nodeDir);
        }

        /** A copy for another directory with the same settings. */
        public Config copy(Path otherNodeDir) {
            Config c = new Config(otherNodeDir);
            c.javaHome = javaHome;
            c.clusterName = clusterName;
            c.nodeName = nodeName;
            c.httpPort = httpPort;
            c.transportPort = transportPort;
            c.seedHosts = seedHosts;
            c.initialMasterNodes = initialMasterNodes;
            c.heap = heap;
            c.jvmOptions.addAll(jvmOptions);
            c.settings.putAll(settings);
            c.configFiles.putAll(configFiles);
            c.startTimeout = startTimeout;
            c.waitForHealth = waitForHealth;
            c.reuseData = reuseData;
            return c;
        }

        /** JDK the node runs on ({@code ES_JAVA_HOME}). */
        public Config javaHome(Path v) {
            this.javaHome = v;
            return this;
        }

        public Config clusterName(String v) {
            this.clusterName = v;
            return this;
        }

        public Config nodeName(String v) {
            this.nodeName = v;
            return this;
        }

        /** 0 (default) lets the OS pick. */
        public Config httpPort(int v) {
            this.httpPort = v;
            return this;
        }

        /** 0 (default) lets the OS pick. */
        public Config transportPort(int v) {
            this.transportPort = v;
            return this;
        }

        /**
         * Multi-node discovery: transport addresses ({@code 127.0.0.1:port}) and the names of the master-eligible
         * nodes of a new cluster. Empty (default) means {@code discovery.type: single-node}.
         */
        public Config discovery(List<String> seedHosts, List<String> initialMasterNodes) {
            this.seedHosts = List.copyOf(seedHosts);
            this.initialMasterNodes = List.copyOf(initialMasterNodes);
            return this;
        }

        /** Heap for {@code -Xms}/{@code -Xmx}, e.g. {@code 512m} or {@code 1g}. */
        public Config heap(String v) {
            this.heap = v;
            return this;
        }

        /** An extra JVM option for the server ({@code ES_JAVA_OPTS}). */
        public Config jvmOption(String v) {
            this.jvmOptions.add(v);
            return this;
        }

        /** An extra {@code elasticsearch.yml} setting (String, Number, Boolean or List of them). */
        public Config setting(String key, Object value) {
            this.settings.put(key, value);
            return this;
        }

        /**
         * Copies a file or directory into the node's config directory before the start, at {@code relativePath}
         * (e.g. an extra model for {@code mover.models.<name>.path: models/<name>}: the config directory is
         * readable by every plugin under Elasticsearch's entitlements).
         */
        public Config configFile(String relativePath, Path source) {
            this.configFiles.put(relativePath, source);
            return this;
        }

        public Config startTimeout(Duration v) {
            this.startTimeout = v;
            return this;
        }

        /** Whether {@link LocalNode#start} waits for yellow health (default) or only for the HTTP port. */
        public Config waitForHealth(boolean v) {
            this.waitForHealth = v;
            return this;
        }

        /**
         * Keep the node directory's {@code data/} from an earlier run (same directory, cluster and node name), so
         * indices survive a restart; by default (false) the node directory is wiped before the start.
         */
        public Config reuseData(boolean v) {
            this.reuseData = v;
            return this;
        }

        public String nodeName() {
            return nodeName;
        }

        public Path nodeDir() {
            return nodeDir;
        }

        String yaml(Path dir) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("cluster.name", clusterName);
            s.put("node.name", nodeName);
            s.put("path.data", dir.resolve("data").toString());
            s.put("path.logs", dir.resolve("logs").toString());
            s.put("network.host", "127.0.0.1");
            s.put("http.port", httpPort);
            s.put("transport.port", transportPort);
            s.put("node.portsfile", true);
            s.put("xpack.security.enabled", false);
            // test machines often have fuller disks than production: never flip indices to read-only
            s.put("cluster.routing.allocation.disk.threshold_enabled", false);
            if (seedHosts.isEmpty() && initialMasterNodes.isEmpty()) {
                s.put("discovery.type", "single-node");
            } else {
                s.put("discovery.seed_hosts", seedHosts);
                s.put("cluster.initial_master_nodes", initialMasterNodes);
            }
            s.putAll(settings);
            StringBuilder sb = new StringBuilder("# written by dev.mover.bench.node.LocalNode before the first start\n");
            for (Map.Entry<String, Object> e : s.entrySet()) {
                sb.append(e.getKey()).append(": ").append(yamlValue(e.getValue())).append('\n');
            }
            return sb.toString();
        }

        private static String yamlValue(Object v) {
            if (v instanceof Number || v instanceof Boolean) {
                return v.toString();
            }
            if (v instanceof List<?> list) {
                List<String> parts = new ArrayList<>();
                for (Object o : list) {
                    parts.add(yamlValue(o));
                }
                return "[" + String.join(", ", parts) + "]";
            }
            String s = String.valueOf(v);
            StringBuilder sb = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                if (c == '"' || c == '\\') {
                    sb.append('\\');
                }
                sb.append(c);
            }
            return sb.append('"').toString();
        }
    }
}
