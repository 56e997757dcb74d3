//! DNS label sanitising of Mesos names (task, framework, discovery names): RFC 1123 or RFC 952 rules.
