"""Bucket keys for dap's diversity filter on molecules: the Bemis-Murcko scaffold of each
finished SMILES (REINVENT's IdenticalMurckoScaffold), None for an invalid molecule."""


def scaffold_keys(domain):
    def keys(sequences, lengths):
        from rdkit import Chem, RDLogger
        from rdkit.Chem.Scaffolds import MurckoScaffold
        RDLogger.DisableLog("rdApp.*")
        out = []
        for smiles in domain.decode(sequences, lengths):
            mol = Chem.MolFromSmiles(smiles) if smiles else None
            out.append(None if mol is None else MurckoScaffold.MurckoScaffoldSmiles(mol=mol))
        return out
    return keys
