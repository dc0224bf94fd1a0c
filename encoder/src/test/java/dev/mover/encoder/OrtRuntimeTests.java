package dev.mover.encoder;

import ai.onnxruntime.OrtEnvironment;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrtRuntimeTests {

    @Test
    void testUseNativeLibraryDir_whenLibraryMissing_thenNamedError() throws Exception {
        Path empty = Files.createTempDirectory("mover-native");
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OrtRuntime.useNativeLibraryDir(empty));
            assertEquals("[mover] ONNX Runtime native library [libonnxruntime.so] is missing in [" + empty.toRealPath() + "]",
                e.getMessage());
            Path nowhere = empty.resolve("nowhere");
            e = assertThrows(IllegalArgumentException.class, () -> OrtRuntime.useNativeLibraryDir(nowhere));
            assertEquals("[mover] ONNX Runtime native library directory [" + nowhere + "] does not exist", e.getMessage());
        } finally {
            Files.delete(empty);
        }
    }

    /**
     * In a fresh JVM with its own empty {@code java.io.tmpdir}: ONNX Runtime loads from an extracted directory
     * (as the plugin ships it), a model encodes, and no library is written to the temporary directory.
     */
    @Test
    void testUseNativeLibraryDir_whenFreshJvm_thenLoadsFromDirectoryAndWritesNothing() throws Exception {
        Path work = Files.createTempDirectory("mover-ort");
        Path nativeDir = Files.createDirectories(work.resolve("native"));
        Path tmp = Files.createDirectories(work.resolve("tmp"));
        try {
            Path jar = Paths.get(OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (String lib : new String[] {"libonnxruntime.so", "libonnxruntime4j_jni.so"}) {
                    ZipEntry entry = zip.getEntry("ai/onnxruntime/native/linux-x64/" + lib);
                    try (InputStream in = zip.getInputStream(entry)) {
                        Files.copy(in, nativeDir.resolve(lib));
                    }
                }
            }
            List<String> cmd = new ArrayList<>();
            cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("-Djava.io.tmpdir=" + tmp);
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(OrtNativeDirProbe.class.getName());
            cmd.add(nativeDir.toString());
            cmd.add(TestModels.model(TestModels.MINILM).toAbsolutePath().toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe timed out");
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("ok 6 " + nativeDir.toRealPath() + " " + nativeDir.toRealPath()), out);
            try (Stream<Path> files = Files.walk(tmp)) {
                List<Path> left = files.filter(f -> !f.equals(tmp)).toList();
                assertTrue(left.isEmpty(), "ONNX Runtime left files in tmpdir: " + left);
            }
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
