package dev.anvil.acme;

import java.util.List;

/**
 * The CA could not validate a challenge: the order became invalid. Carries each failed
 * authorization's problem (with the identifier). Failing over to another CA does not help:
 * the challenge setup must be fixed.
 */
public class AcmeValidationException extends AcmeException {

    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;

    public AcmeValidationException(String message, List<Problem> problems) {
        super(message + (problems.isEmpty() ? "" : ": " + String.join("; ",
                problems.stream().map(Problem::describe).toList())));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }
}
