package dev.mover.encoder;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The only class that loads and initialises ONNX Runtime's native code. Every other class obtains the
 * process-wide {@link OrtEnvironment} from {@link #environment()}, so the first touch of ONNX Runtime (and its
 * native library loading) happens here and nowhere else.
 *
 * <p><b>How ONNX Runtime 1.24 loads its libraries</b> ({@code ai.onnxruntime.OnnxRuntime#init}, read from the
 * 1.24.2 jar's bytecode): it always creates (and deletes at the end) an empty temporary directory
 * {@code onnxruntime-java*} under {@code java.io.tmpdir}; then for each of {@code onnxruntime} and
 * {@code onnxruntime4j_jni}, in order: (1) skip if system property {@code onnxruntime.native.<lib>.skip=true};
 * (2) {@code System.load} the file named by {@code onnxruntime.native.<lib>.path}; (3) if system property
 * {@code onnxruntime.native.path} names a directory, {@code System.load(dir/libonnxruntime.so)} (resp.
 * {@code libonnxruntime4j_jni.so}); (4) otherwise copy the library from the jar's
 * {@code /ai/onnxruntime/native/<os-arch>/} into the temporary directory and load it from there, or fall back to
 * {@code System.loadLibrary}. With (3) nothing is written to disk: the Elasticsearch plugin ships both libraries
 * already extracted and calls {@link #useNativeLibraryDir(Path)} before anything else touches ONNX Runtime.
 *
 * <p>Entitlements the caller needs (Elasticsearch 8.19): {@code load_native_libraries}, read access to the
 * library directory, and write access to {@code java.io.tmpdir} for the empty directory ONNX Runtime creates and
 * deletes (no file is written into it when the directory is given).
 *
 * <p>ONNX Runtime's environment is a process singleton by design, hence the static state here; there is exactly
 * one per JVM.
 */
public final class OrtRuntime {
    /** The system property ONNX Runtime reads for a directory holding its already-extracted native libraries. */
    public static final String NATIVE_PATH_PROPERTY = "onnxruntime.native.path";

    private static OrtEnvironment env;
    private static Path nativeDir;

    private OrtRuntime() {}

    /**
     * Points ONNX Runtime at a directory holding {@code libonnxruntime.so} and {@code libonnxruntime4j_jni.so}
     * (or the platform's equivalents), so that nothing is extracted to a temporary directory. Must be called before
     * the first {@link #environment()}; calling it again with the same directory is a no-op.
     *
     * @throws IllegalArgumentException if the directory or one of the two libraries is missing
     * @throws IllegalStateException if ONNX Runtime was already loaded from elsewhere
     */
    public static synchronized void useNativeLibraryDir(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            throw new IllegalArgumentException("[mover] ONNX Runtime native library directory [" + abs + "] does not exist");
        }
        for (String lib : new String[] {"onnxruntime", "onnxruntime4j_jni"}) {
            Path file = abs.resolve(System.mapLibraryName(lib).replace("jnilib", "dylib"));
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("[mover] ONNX Runtime native library [" + file.getFileName()
                    + "] is missing in [" + abs + "]");
            }
        }
        if (env != null) {
            if (abs.equals(nativeDir)) {
                return;
            }
            throw new IllegalStateException("[mover] ONNX Runtime is already loaded"
                + (nativeDir == null ? " from its jar" : " from [" + nativeDir + "]") + "; cannot switch to [" + abs + "]");
        }
        System.setProperty(NATIVE_PATH_PROPERTY, abs.toString());
        // Under Elasticsearch's entitlements a plugin without write_system_properties for this key is refused
        // silently (the call returns, nothing is set); ONNX Runtime would then fail later with an UnsatisfiedLinkError.
        if (abs.toString().equals(System.getProperty(NATIVE_PATH_PROPERTY)) == false) {
            throw new IllegalStateException("[mover] could not set system property [" + NATIVE_PATH_PROPERTY + "]; the plugin needs "
                + "the entitlement [write_system_properties] for it");
        }
        nativeDir = abs;
    }

    /**
     * The process-wide ONNX Runtime environment, loading the native libraries on the first call.
     *
     * @throws IllegalStateException if the native libraries cannot be loaded
     */
    public static synchronized OrtEnvironment environment() {
        if (env == null) {
            try {
                env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "mover");
            } catch (RuntimeException | LinkageError e) {
                throw new IllegalStateException("[mover] cannot load ONNX Runtime"
                    + (nativeDir == null ? "" : " from [" + nativeDir + "]") + ": " + e.getMessage(), e);
            }
        }
        return env;
    }

    /** Whether {@link #environment()} has loaded ONNX Runtime. */
    public static synchronized boolean isLoaded() {
        return env != null;
    }

    /** The directory given to {@link #useNativeLibraryDir(Path)}, or {@code null} when loaded from the jar. */
    public static synchronized Path nativeLibraryDir() {
        return nativeDir;
    }

    /** ONNX Runtime's version string (loads it if needed). */
    public static String version() {
        return environment().getVersion();
    }
}
