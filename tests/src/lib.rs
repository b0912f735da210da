//! Cross-service checks of the whole repository; the tests live in `tests/`.
