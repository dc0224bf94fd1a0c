package dev.mover.encoder;

/**
 * Extends a BERT graph's absolute position table past its trained length (hierarchical decomposition).
 * Work in progress: not yet implemented.
 */
final class PositionExtension {
    private PositionExtension() {}

    static byte[] extend(byte[] graph, int oldPositions, int newPositions, String modelName) {
        throw new IllegalArgumentException("[mover] model [" + modelName + "] long_text [hierarchical] is not implemented yet");
    }
}
