package dev.watershed.templates;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * How a template option appears in a Flex Template's {@code metadata.json}: its label, the regexes
 * a value must match, and an example value that the build checks against both the regexes and the
 * options' own validation. The help text is the option's {@code @Description}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface TemplateParameter {
  String label();

  String[] regexes() default {};

  String example();
}
