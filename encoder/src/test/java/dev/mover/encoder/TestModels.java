package dev.mover.encoder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locations of the real models (unpacked by the build) and the shared evaluation data. */
public final class TestModels {
    public static final String MINILM = "all-minilm-l6-v2";
    public static final String BGE = "bge-small-zh-v15";

    private TestModels() {}

    public static Path modelsDir() {
        Path p = Paths.get(System.getProperty("mover.models.dir", "target/models"));
        if (!Files.isDirectory(p.resolve(MINILM))) {
            throw new IllegalStateException("models not unpacked in [" + p.toAbsolutePath() + "]: run mvn generate-resources");
        }
        return p;
    }

    public static Path model(String name) {
        return modelsDir().resolve(name);
    }

    public static Path dataDir() {
        Path p = Paths.get(System.getProperty("mover.data.dir", "../../shared/data"));
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("shared data not found at [" + p.toAbsolutePath() + "]");
        }
        return p;
    }
}
