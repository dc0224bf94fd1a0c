package dev.mover.encoder;

import java.nio.file.Path;

/** Run in a fresh JVM by {@link OrtRuntimeTests}: loads ONNX Runtime from a directory and encodes one sentence. */
public final class OrtNativeDirProbe {
    private OrtNativeDirProbe() {}

    public static void main(String[] args) {
        OrtRuntime.useNativeLibraryDir(Path.of(args[0]));
        try (TextEncoder enc = TextEncoder.open(Path.of(args[1]), EncoderConfig.defaults())) {
            EncodedText t = enc.encode("Loaded from an extracted directory.");
            System.out.println("ok " + t.tokens() + " " + OrtRuntime.nativeLibraryDir() + " "
                + System.getProperty(OrtRuntime.NATIVE_PATH_PROPERTY));
        }
    }
}
