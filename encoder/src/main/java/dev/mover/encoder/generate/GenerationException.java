package dev.mover.encoder.generate;

/**
 * A generator failed. The message starts with the generator's name in brackets, e.g.
 * {@code [openai_compatible] endpoint [http://127.0.0.1:8080/v1/chat/completions] returned HTTP [503]: ...}.
 */
public final class GenerationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String generator;
    private final boolean timeout;

    /**
     * @param generator the generator's {@link Generator#name()}
     * @param message   what went wrong, with values in brackets (the generator name is prepended)
     * @param timeout   whether the failure is a time limit
     * @param cause     the underlying exception, or {@code null}
     */
    public GenerationException(String generator, String message, boolean timeout, Throwable cause) {
        super("[" + generator + "] " + message, cause);
        this.generator = generator;
        this.timeout = timeout;
    }

    /** The name of the generator that failed. */
    public String generator() {
        return generator;
    }

    /** Whether the failure is a time limit (connect, response or stream stalled past the budget). */
    public boolean isTimeout() {
        return timeout;
    }
}
