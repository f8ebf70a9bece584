"""The instructor's tools, in the order a course uses them.

``release``  builds the student release (stubs, notebooks, archive) from ``solutions/``;
``intake``   takes a student's submission zip in, allow-listed and size-checked;
``grade``    runs the submission's code in a sandbox and judges it against the reference;
``feedback`` writes the feedback pages and the grades CSV.

``autograde`` drives intake, grade and feedback over a folder of submissions; ``demo`` runs the whole
loop once. The course's facts (assignment, notebooks, student modules) come from ``cs231n.course``.
"""
