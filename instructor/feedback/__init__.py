"""Step 4, feedback: one HTML page per student and the grades CSV, from what grading recorded."""
