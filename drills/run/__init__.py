"""Running drills: the session (engine, clean-up, stack, fitting, baseline, the drill loop), one
drill's runner, its evaluation, the fitting of scenarios to a stack, the clean-up of what a killed
run left.
"""
