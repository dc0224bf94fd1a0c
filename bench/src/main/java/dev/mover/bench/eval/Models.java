package dev.mover.bench.eval;

import dev.mover.encoder.EncoderConfig;
import dev.mover.encoder.TextEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * Opens the default encoder of each language from the models directory: system property {@code mover.models.dir},
 * default {@code encoder/target/models} relative to the working directory (filled by
 * {@code mvn -pl encoder -am package}).
 */
final class Models implements AutoCloseable {
    private final Path dir;
    private final EncoderConfig config;
    private final Map<Lang, TextEncoder> open = new EnumMap<>(Lang.class);

    Models(int threads) {
        this.dir = Path.of(System.getProperty("mover.models.dir", "encoder/target/models"));
        this.config = EncoderConfig.builder().intraOpThreads(threads).build();
    }

    /** The encoder of {@code lang}, opened on first use. */
    synchronized TextEncoder get(Lang lang) {
        return open.computeIfAbsent(lang, l -> {
            Path p = dir.resolve(l.model);
            if (!Files.isDirectory(p)) {
                throw new IllegalArgumentException("[eval] model directory [" + p.toAbsolutePath()
                    + "] does not exist; build it with `mvn -pl encoder -am package` or set -Dmover.models.dir");
            }
            return TextEncoder.open(p, config);
        });
    }

    @Override
    public synchronized void close() {
        for (TextEncoder e : open.values()) {
            e.close();
        }
        open.clear();
    }
}
