package dev.mover.bench.node;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * An Elasticsearch home directory unpacked from the integ-test-zip distribution with plugins installed through
 * {@code bin/elasticsearch-plugin install --batch}. One home can serve several nodes (each node has its own
 * config, data and logs directory, see {@link LocalNode}).
 *
 * <p>A prepared home is reused when its marker file records the same distribution and plugin zips (path, size and
 * modification time), so repeated runs skip the unpack and install.
 */
public final class EsHome {
    /** The Elasticsearch version of the distribution this project builds against. */
    public static final String ES_VERSION = "8.19.21";
    /** Java 17 on this machine (the project's build JDK). */
    public static final Path JAVA_17 = Paths.get("/usr/lib/jvm/java-17-openjdk-amd64");
    /** Temurin 25 on this machine (real users run ES's bundled JDK 24+). */
    public static final Path TEMURIN_25 = Paths.get("/usr/lib/jvm/temurin-25-jdk-amd64");

    private static final String MARKER = ".mover-home";

    private final Path dir;

    private EsHome(Path dir) {
        this.dir = dir;
    }

    /** The home directory (holds bin/, lib/, modules/, plugins/, config/). */
    public Path dir() {
        return dir;
    }

    /**
     * Unpacks {@code distributionZip} into {@code dir} and installs each plugin zip with {@code javaHome} as
     * {@code ES_JAVA_HOME}, or reuses {@code dir} if it was prepared from the same files.
     *
     * @throws IOException if unpacking fails or the plugin CLI exits non-zero (its output is in the message)
     */
    public static EsHome prepare(Path distributionZip, List<Path> pluginZips, Path javaHome, Path dir)
            throws IOException, InterruptedException {
        LocalNode.refuseRoot();
        requireFile(distributionZip, "distribution zip");
        for (Path p : pluginZips) {
            requireFile(p, "plugin zip");
        }
        String fingerprint = fingerprint(distributionZip, pluginZips);
        Path marker = dir.resolve(MARKER);
        if (Files.isRegularFile(marker)
                && Files.readString(marker, StandardCharsets.UTF_8).equals(fingerprint)
                && Files.isExecutable(dir.resolve("bin/elasticsearch"))) {
            return new EsHome(dir);
        }
        deleteRecursively(dir);
        Files.createDirectories(dir);
        unzipStrippingTopDir(distributionZip, dir);
        EsHome home = new EsHome(dir);
        for (Path p : pluginZips) {
            home.installPlugin(p, javaHome);
        }
        Files.writeString(marker, fingerprint, StandardCharsets.UTF_8);
        return home;
    }

    /** Runs {@code bin/elasticsearch-plugin install --batch file://<zip>}. */
    public void installPlugin(Path pluginZip, Path javaHome) throws IOException, InterruptedException {
        List<String> cmd = List.of(dir.resolve("bin/elasticsearch-plugin").toString(), "install", "--batch",
                pluginZip.toAbsolutePath().toUri().toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("ES_JAVA_HOME", javaHome.toString());
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("ES_JAVA_OPTS");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("[elasticsearch-plugin install] timed out for [" + pluginZip + "]:\n" + out);
        }
        if (p.exitValue() != 0) {
            throw new IOException("[elasticsearch-plugin install] exited [" + p.exitValue() + "] for ["
                    + pluginZip + "]:\n" + out);
        }
    }

    private static void requireFile(Path p, String what) {
        if (p == null || !Files.isRegularFile(p)) {
            throw new IllegalArgumentException("[" + what + "] not found at [" + p + "]; build it first"
                    + " (./mover test or mvn -B install -DskipTests)");
        }
    }

    private static String fingerprint(Path dist, List<Path> plugins) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Path p : concat(dist, plugins)) {
            Path abs = p.toAbsolutePath();
            sb.append(abs).append(' ').append(Files.size(abs)).append(' ')
                    .append(Files.getLastModifiedTime(abs).toMillis()).append('\n');
        }
        return sb.toString();
    }

    private static List<Path> concat(Path first, List<Path> rest) {
        List<Path> all = new ArrayList<>(rest.size() + 1);
        all.add(first);
        all.addAll(rest);
        return all;
    }

    /** Unzips, dropping the archive's single top directory and marking bin/ scripts executable. */
    static void unzipStrippingTopDir(Path zip, Path target) throws IOException {
        Path root = target.toAbsolutePath().normalize();
        try (InputStream in = Files.newInputStream(zip); ZipInputStream zin = new ZipInputStream(in)) {
            ZipEntry e;
            while ((e = zin.getNextEntry()) != null) {
                String name = e.getName();
                int slash = name.indexOf('/');
                if (slash < 0 || slash == name.length() - 1) {
                    continue;
                }
                Path out = root.resolve(name.substring(slash + 1)).normalize();
                if (!out.startsWith(root)) {
                    throw new IOException("[" + zip + "] entry [" + name + "] escapes the target directory");
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(zin, out, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Set<PosixFilePermission> exec = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.OTHERS_EXECUTE);
        try (var files = Files.list(root.resolve("bin"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().endsWith(".bat") && !f.getFileName().toString().endsWith(".exe")) {
                    Files.setPosixFilePermissions(f, exec);
                }
            }
        }
    }

    /** Deletes a directory tree if it exists. */
    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Copies a directory tree (used for the per-node config directory). */
    static void copyTree(Path from, Path to) {
        try (var paths = Files.walk(from)) {
            for (Path src : (Iterable<Path>) paths::iterator) {
                Path dst = to.resolve(from.relativize(src).toString());
                if (Files.isDirectory(src)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
