package dev.mover.encoder;

import java.io.Closeable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Named models from directories, opened lazily on first use with one shared {@link EncoderConfig}, closed together.
 * Thread-safe: concurrent first uses of one model open it once.
 */
public final class ModelRegistry implements Closeable {
    private final Map<String, Path> dirs;
    private final EncoderConfig cfg;
    private final Map<String, TextEncoder> open = new LinkedHashMap<>();
    private boolean closed;

    /**
     * @param dirs model name to model directory; the names are what callers use in {@link #get(String)}
     */
    public ModelRegistry(Map<String, Path> dirs, EncoderConfig cfg) {
        this.dirs = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(dirs, "dirs")));
        this.cfg = Objects.requireNonNull(cfg, "cfg");
    }

    /** The registered model names. */
    public Set<String> names() {
        return dirs.keySet();
    }

    /** Whether a model of that name is registered. */
    public boolean contains(String name) {
        return dirs.containsKey(name);
    }

    /** The directory of a registered model, or {@code null}. */
    public Path dir(String name) {
        return dirs.get(name);
    }

    /**
     * The encoder of a registered model, opening it on first use.
     *
     * @throws IllegalArgumentException if no such model is registered or its directory is invalid
     */
    public synchronized TextEncoder get(String name) {
        if (closed) {
            throw new IllegalStateException("[mover] model registry is closed");
        }
        TextEncoder enc = open.get(name);
        if (enc != null) {
            return enc;
        }
        Path dir = dirs.get(name);
        if (dir == null) {
            throw new IllegalArgumentException("[mover] unknown model [" + name + "]; known models are " + dirs.keySet());
        }
        enc = TextEncoder.open(dir, cfg);
        open.put(name, enc);
        return enc;
    }

    /** Names of the models opened so far. */
    public synchronized Set<String> openModels() {
        return Collections.unmodifiableSet(new java.util.LinkedHashSet<>(open.keySet()));
    }

    /** Closes every opened model; later {@link #get(String)} calls fail. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<RuntimeException> errors = new ArrayList<>();
        for (TextEncoder enc : open.values()) {
            try {
                enc.close();
            } catch (RuntimeException e) {
                errors.add(e);
            }
        }
        open.clear();
        if (!errors.isEmpty()) {
            RuntimeException first = errors.get(0);
            for (int i = 1; i < errors.size(); i++) {
                first.addSuppressed(errors.get(i));
            }
            throw first;
        }
    }
}
