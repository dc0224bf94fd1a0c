package dev.mover.bench;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Entry point of the {@code ./mover} subcommands that run on the JVM. Each subcommand is a class with
 * {@code public static int run(String[] args) throws Exception} that returns the process exit code.
 */
public final class Main {
    private static final Map<String, String> COMMANDS = new LinkedHashMap<>();
    static {
        COMMANDS.put("ot-check", "dev.mover.bench.ot.OtCheck");
        COMMANDS.put("ot-bench", "dev.mover.bench.ot.OtBench");
        COMMANDS.put("eval", "dev.mover.bench.eval.EvalCli");
        COMMANDS.put("bench", "dev.mover.bench.BenchCli");
        COMMANDS.put("demo", "dev.mover.bench.demo.Demo");
    }

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !COMMANDS.containsKey(args[0])) {
            System.err.println("usage: mover <" + String.join("|", COMMANDS.keySet()) + "> [args...]");
            System.exit(2);
        }
        Class<?> cls = Class.forName(COMMANDS.get(args[0]));
        Method run = cls.getMethod("run", String[].class);
        int rc = (int) run.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        System.exit(rc);
    }
}
