// The tests drive the simulated cloud through the Neutral.Testing package's own rig, as users do.
global using SimulatedRig = Neutral.Testing.SimulatedNeutral;
